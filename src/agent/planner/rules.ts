import { parseDateRange } from './dates.ts';
import type { Plan } from '../plan.ts';
import * as W from './vocabulary.ts';

/**
 * The default planner: no LLM, just the ways people phrase such goals. It returns a draft plan and
 * what it understood in words; validatePlan() then decides whether this installation can serve it.
 * It never guesses silently: every default it applies is stated in `understood`.
 */
export interface RuleOptions {
  readonly now: Date;
  readonly defaultSegmenter: string; // DFA_SEGMENTER
}

export interface PlanDraft {
  readonly plan: Plan;
  /** Problems found while reading the goal itself (unknown output, no task...). */
  readonly problems: readonly string[];
}

export function draftPlanByRules(goal: string, opts: RuleOptions): PlanDraft {
  const t = ` ${goal.toLowerCase().replace(/[“”"']/g, ' ').replace(/\s+/g, ' ')} `;
  const understood: string[] = [];
  const problems: string[] = [];

  // What to segment.
  const structures: string[] = [];
  const organSaid: string[] = [];
  let rest = t;
  for (const s of W.STRUCTURES) {
    if (s.re.test(rest)) {
      for (const n of s.structures) if (!structures.includes(n)) structures.push(n);
      organSaid.push(s.said);
      rest = rest.replace(s.re, ' '); // "left lung" must not also count as "lungs"
    }
  }
  const hasTask = W.TASK_RE.test(t);
  if (structures.length > 0) understood.push(`structures: ${organSaid.join(', ')} → ${structures.join(', ')}`);
  else if (hasTask) problems.push('which structure to contour (e.g. "lungs")');
  else problems.push('a task I can do (e.g. "contour the lungs on pending CT scans")');

  // Which studies.
  const modalityHit = W.MODALITIES.filter((m) => m.re.test(t));
  let modality = 'CT';
  if (modalityHit.length > 1) problems.push(`one modality (goal names ${modalityHit.map((m) => m.said).join(' and ')})`);
  if (modalityHit.length >= 1) {
    modality = modalityHit[0].modality;
    understood.push(`modality: ${modality}`);
  } else {
    understood.push('modality: CT (not stated; the lung models work on CT)');
  }

  const rerun = W.RERUN_RE.test(t);
  const uids = [...new Set(t.match(W.UID_RE) ?? [])];
  let status: Plan['selection']['status'];
  if (W.PENDING_RE.test(t)) status = 'registered';
  else if (rerun && W.DONE_RE.test(t)) status = 'available';
  else if (uids.length > 0 || rerun) status = 'any';
  else status = 'registered';
  understood.push(
    status === 'registered'
      ? `studies: ImagingStudy status registered (pending)${W.PENDING_RE.test(t) ? '' : ' — the default; say "re-run" to redo finished ones'}`
      : `studies: ImagingStudy status ${status}`,
  );
  if (uids.length > 0) understood.push(`study: ${uids.join(', ')}`);
  if (rerun) understood.push('re-run: studies with results are processed again (same output UIDs, replaced in place)');

  const patientM = goal.match(W.PATIENT_RE);
  const patient = patientM ? patientM[1] : undefined;
  if (patient) understood.push(`patient: ${patient}`);

  const range = parseDateRange(t, opts.now);
  if (range) understood.push(`study date: ${range.from ?? '…'} to ${range.to ?? 'now'} ("${range.said.trim()}")`);

  const limitM = t.match(W.LIMIT_RE);
  const limit = limitM ? Number(limitM[1] ?? limitM[2]) : undefined;
  if (limit !== undefined) understood.push(`at most ${limit} studies`);
  if (/\bchest\b|\bthora(x|cic)\b/.test(t)) understood.push('body part: chest');

  // What to produce.
  const unknownOut = t.match(W.UNKNOWN_OUTPUT_RE);
  if (unknownOut) problems.push(`an output I can write ('${unknownOut[1]}' is not one; I write RTSTRUCT, DICOM SEG and a FHIR report)`);
  const wantRt = W.RTSTRUCT_RE.test(t);
  const segText = t.replace(/\bsegment(ation|ing|ed|s)?\b(?! objects?)/g, ' ');
  const wantSeg = W.SEG_RE.test(segText);
  const only = W.ONLY_RE.test(t);
  let outputs: Plan['outputs'];
  if (wantRt || wantSeg) {
    outputs = { rtstruct: wantRt, seg: wantSeg, fhirReport: true };
    const which = [wantRt ? 'RTSTRUCT' : '', wantSeg ? 'DICOM SEG' : ''].filter(Boolean).join(' + ');
    understood.push(`outputs: ${which}${only ? ' only' : ''}${!wantSeg ? ' (say "and SEG" to also write DICOM SEG)' : ''}`);
  } else {
    outputs = { rtstruct: true, seg: true, fhirReport: true };
    understood.push('outputs: RTSTRUCT + DICOM SEG (not stated; both by default)');
  }
  if (W.NO_FHIR_RE.test(t)) {
    outputs = { ...outputs, fhirReport: false };
    understood.push('FHIR: no DiagnosticReport (Task and ImagingStudy are still updated)');
  } else understood.push('FHIR: DiagnosticReport with structure volumes, Provenance, ImagingStudy → available, Task');

  let storeMethod: Plan['store']['method'] = 'default';
  if (W.STOW_RE.test(t)) storeMethod = 'stow-rs';
  else if (W.CSTORE_RE.test(t)) storeMethod = 'c-store';
  understood.push(`store: ${storeMethod === 'default' ? 'PACS (configured method, DFA_STORE)' : storeMethod.toUpperCase()}`);

  // How to compute.
  let segmenter = opts.defaultSegmenter;
  if (W.ONNX_RE.test(t)) segmenter = 'onnx';
  else if (W.CLASSICAL_RE.test(t)) segmenter = 'classical';
  const segmenterNamed = W.ONNX_RE.test(t) || W.CLASSICAL_RE.test(t);

  const plan: Plan = {
    goal,
    selection: {
      status,
      modality,
      ...(range?.from ? { dateFrom: range.from } : {}),
      ...(range?.to ? { dateTo: range.to } : {}),
      ...(patient ? { patient } : {}),
      ...(uids.length ? { studyInstanceUids: uids } : {}),
      ...(limit !== undefined ? { limit } : {}),
    },
    pipeline: { task: 'segmentation', structures, segmenter, segmenterNamed },
    outputs,
    store: { method: storeMethod },
    rerun,
    understood,
  };
  return { plan, problems };
}
