import type { Plan } from '../plan.ts';
import { FILLER, GoalReader } from './reader.ts';
import { readSelection } from './selection-words.ts';
import * as W from './vocabulary.ts';

/**
 * The default planner: no LLM, just the ways people phrase such goals. It returns a draft plan and
 * what it understood in words; validatePlan() then decides whether this installation can serve it.
 * It never guesses silently: every default it applies is stated in `understood`, and every word of
 * the goal is accounted for (understood, or filler) — any other word refuses the goal.
 */
export interface RuleOptions {
  readonly now: Date;
  readonly defaultSegmenter: string; // DFA_SEGMENTER
  readonly defaultReview?: Plan['review']; // DFA_REVIEW
}

export interface PlanDraft {
  readonly plan: Plan;
  /** Problems found while reading the goal itself (unknown output, no task, words not understood...). */
  readonly problems: readonly string[];
}

/** The refusal line for words the planner could not place (also used for the LLM planner's accounting). */
export function unplacedProblem(words: readonly string[]): string {
  return `to understand every word (could not place: ${words.map((w) => `"${w}"`).join(', ')}; rephrase without them — nothing was run)`;
}

export function draftPlanByRules(goal: string, opts: RuleOptions): PlanDraft {
  const r = new GoalReader(goal);
  const understood: string[] = [];
  const problems: string[] = [];

  // Status words first: "not yet processed" means pending, not a negation.
  const pending = r.take(W.PENDING_RE).length > 0;
  // "do not segment …" asks for nothing: refuse rather than plan a normal run.
  const negated = r.takeFirst(W.NEGATED_TASK_RE);
  if (negated) problems.push(`something to do (the goal says "${negated[0].trim()}"; nothing was planned)`);
  const noSeg = r.take(W.NO_SEG_RE).length > 0;
  const noRt = r.take(W.NO_RTSTRUCT_RE).length > 0;
  const noFhir = r.take(W.NO_FHIR_RE).length > 0;

  const sel = readSelection(r, opts.now);
  problems.push(...sel.problems);

  // What to produce.
  const unknownOut = r.take(W.UNKNOWN_OUTPUT_RE);
  if (unknownOut.length) problems.push(`an output I can write ('${unknownOut[0][1]}' is not one; I write RTSTRUCT, DICOM SEG and a FHIR report)`);
  const wantRt = r.take(W.RTSTRUCT_RE).length > 0;
  const wantSeg = r.take(W.SEG_RE).length > 0; // before the task words: "segmentation objects" is SEG
  const only = r.take(W.ONLY_RE).length > 0;
  const stow = r.take(W.STOW_RE).length > 0;
  const cstore = r.take(W.CSTORE_RE).length > 0;
  const onnx = r.take(W.ONNX_RE).length > 0;
  const classical = r.take(W.CLASSICAL_RE).length > 0;
  const rerun = r.take(W.RERUN_RE).length > 0;
  const done = r.take(W.DONE_RE).length > 0;

  // Which modality.
  const modalityHit = W.MODALITIES.filter((m) => r.take(m.re).length > 0);

  // What to segment ("left lung" is taken before "lungs" can see it).
  const structures: string[] = [];
  const organSaid: string[] = [];
  for (const s of W.STRUCTURES) {
    if (r.take(s.re).length) {
      for (const n of s.structures) if (!structures.includes(n)) structures.push(n);
      organSaid.push(s.said);
    }
  }
  const hasTask = r.take(W.TASK_RE).length > 0 || rerun;
  if (structures.length > 0) understood.push(`structures: ${organSaid.join(', ')} → ${structures.join(', ')}`);
  else if (hasTask) problems.push('which structure to contour (e.g. "lungs")');
  else problems.push('a task I can do (e.g. "contour the lungs on pending CT scans")');

  let modality = 'CT';
  if (modalityHit.length > 1) problems.push(`one modality (goal names ${modalityHit.map((m) => m.said).join(' and ')})`);
  if (modalityHit.length >= 1) {
    modality = modalityHit[0].modality;
    understood.push(`modality: ${modality}`);
  } else {
    understood.push('modality: CT (not stated; the lung models work on CT)');
  }

  const uids = sel.selection.studyInstanceUids ?? [];
  let status: Plan['selection']['status'];
  if (pending) status = 'registered';
  else if (rerun && done) status = 'available';
  else if (uids.length > 0 || rerun) status = 'any';
  else status = 'registered';
  if (done && !rerun) problems.push('whether to redo finished studies (say "re-run" to process already processed ones again)');
  understood.push(
    status === 'registered'
      ? `studies: ImagingStudy status registered (pending)${pending ? '' : ' — the default; say "re-run" to redo finished ones'}`
      : `studies: ImagingStudy status ${status}`,
  );
  understood.push(...sel.understood);
  if (rerun) understood.push('re-run: studies with results are processed again (same output UIDs, replaced in place)');

  let outputs: Plan['outputs'];
  const rt = wantRt && !noRt;
  const seg = wantSeg && !noSeg;
  if (rt || seg) {
    outputs = { rtstruct: rt, seg, fhirReport: true };
    const which = [rt ? 'RTSTRUCT' : '', seg ? 'DICOM SEG' : ''].filter(Boolean).join(' + ');
    understood.push(`outputs: ${which}${only ? ' only' : ''}${!seg && !noSeg ? ' (say "and SEG" to also write DICOM SEG)' : ''}`);
  } else {
    outputs = { rtstruct: !noRt, seg: !noSeg, fhirReport: true };
    const which = [outputs.rtstruct ? 'RTSTRUCT' : '', outputs.seg ? 'DICOM SEG' : ''].filter(Boolean).join(' + ');
    understood.push(noRt || noSeg ? `outputs: ${which || 'none'} (the goal excludes ${noRt ? 'RTSTRUCT' : 'DICOM SEG'})` : 'outputs: RTSTRUCT + DICOM SEG (not stated; both by default)');
  }
  if (noFhir) {
    outputs = { ...outputs, fhirReport: false };
    understood.push('FHIR: no DiagnosticReport (Task and ImagingStudy are still updated)');
  } else understood.push('FHIR: DiagnosticReport with structure volumes, Provenance, ImagingStudy → available, Task');

  let storeMethod: Plan['store']['method'] = 'default';
  if (stow && cstore) problems.push('one way to store (goal names STOW-RS and C-STORE)');
  if (stow) storeMethod = 'stow-rs';
  else if (cstore) storeMethod = 'c-store';
  understood.push(`store: ${storeMethod === 'default' ? 'PACS (configured method, DFA_STORE)' : storeMethod.toUpperCase()}`);

  // How to compute.
  let segmenter = opts.defaultSegmenter;
  if (onnx && classical) problems.push('one segmenter (goal names an ONNX model and the classical method)');
  if (onnx) segmenter = 'onnx';
  else if (classical) segmenter = 'classical';
  const segmenterNamed = onnx || classical;

  // Who looks before the PACS gets the contours ("for review", "no review"; DFA_REVIEW otherwise).
  const reviewNever = r.take(W.REVIEW_NEVER_RE).length > 0;
  const reviewQc = r.take(W.REVIEW_QC_RE).length > 0;
  const reviewAlways = r.take(W.REVIEW_ALWAYS_RE).length > 0;
  if ([reviewNever, reviewQc, reviewAlways].filter(Boolean).length > 1) problems.push('one review policy (the goal asks for review and for none)');
  const review: Plan['review'] = reviewNever ? 'never' : reviewQc ? 'on-qc-fail' : reviewAlways ? 'always' : (opts.defaultReview ?? 'on-qc-fail');
  understood.push(
    `review: ${review === 'always' ? 'a person approves every contour before it is stored' : review === 'never' ? 'none (contours that fail QC fail the job)' : 'a person reviews contours that fail QC before anything is stored'}${reviewNever || reviewQc || reviewAlways ? '' : ' (DFA_REVIEW default)'}`,
  );

  const left = r.leftover(FILLER);
  if (left.length) problems.push(unplacedProblem(left));

  const plan: Plan = {
    goal,
    selection: { status, modality, ...sel.selection },
    pipeline: { task: 'segmentation', structures, segmenter, segmenterNamed },
    outputs,
    store: { method: storeMethod },
    review,
    rerun,
    understood,
  };
  return { plan, problems };
}
