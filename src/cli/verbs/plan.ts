import { DfaError, isDfaError } from '../../core/errors.ts';
import type { Plan } from '../../agent/plan.ts';
import { planGoal } from '../../agent/planner/index.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const FLAGS = defineFlags({
  json: { type: 'boolean', help: 'the plan (or the refusal) as JSON on stdout' },
  planner: { type: 'string', value: 'rules|llm', help: 'which planner (default rules unless DFA_LLM_BASE_URL)' },
});

export const verb: Verb = {
  summary: 'turn a goal into a typed plan and print what was understood (changes nothing)',
  usage: [
    'npx dfa plan "Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"',
    'npx dfa plan --json "contour the lungs on CT studies registered since Monday for patient 123, SEG only"',
    'DFA_LLM_BASE_URL=http://127.0.0.1:11434/v1 DFA_LLM_MODEL=qwen2.5 npx dfa plan --planner llm "do the lungs on new CTs"',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const goal = positionals.join(' ').trim();
    if (!goal) throw new DfaError('GOAL_UNSUPPORTED', 'no goal given (usage: dfa plan "<goal>")');
    const planner = values.planner === undefined ? undefined : values.planner === 'llm' ? 'llm' : values.planner === 'rules' ? 'rules' : undefined;
    if (values.planner !== undefined && planner === undefined) throw new DfaError('CONFIG_INVALID', `--planner must be rules or llm, not '${values.planner}'`);
    let plan;
    try {
      plan = await planGoal(goal, ctx.config, { planner });
    } catch (e) {
      // A refusal is an answer, not a crash: with --json it is JSON on stdout (exit 2).
      if (!values.json || !isDfaError(e, 'GOAL_UNSUPPORTED')) throw e;
      ctx.out(JSON.stringify({ goal, refused: true, code: e.code, message: e.message, ...e.details }, null, 2));
      return 2;
    }
    if (values.json) {
      ctx.out(JSON.stringify(plan, null, 2));
      return 0;
    }
    ctx.out(`Goal: ${goal}`);
    ctx.out('Understood:');
    for (const u of plan.understood) ctx.out(`  - ${u}`);
    ctx.out('Plan:');
    for (const l of planLines(plan)) ctx.out(`  ${l}`);
    ctx.out('Next: npx dfa run --dry-run "<goal>" lists the studies it selects; --json prints the plan for --plan-json.');
    return 0;
  },
};

/** The plan in words (no raw JSON for people). */
export function planLines(p: Plan): string[] {
  const s = p.selection;
  const sel = [
    `status ${s.status}`,
    `modality ${s.modality}`,
    s.patient || s.patients ? `patient ${[s.patient, ...(s.patients ?? [])].filter(Boolean).join(', ')}` : '',
    s.patientNames ? `patient named ${s.patientNames.join(', ')}` : '',
    s.excludePatients ? `except patient ${s.excludePatients.join(', ')}` : '',
    s.accessionNumbers ? `accession ${s.accessionNumbers.join(', ')}` : '',
    s.studyInstanceUids ? `study ${s.studyInstanceUids.join(', ')}` : '',
    s.excludeStudyInstanceUids ? `except study ${s.excludeStudyInstanceUids.join(', ')}` : '',
    s.dateFrom || s.dateTo ? `study date ${s.dateFrom ?? '…'} to ${s.dateTo ?? 'now'}` : '',
    s.describedAs ? `described as ${s.describedAs.join(' and ')}` : '',
    s.limit ? `at most ${s.limit}${s.order ? ` (${s.order} first)` : ''}` : '',
  ].filter(Boolean);
  const out = [p.outputs.rtstruct ? 'RTSTRUCT' : '', p.outputs.seg ? 'DICOM SEG' : '', p.outputs.fhirReport ? 'FHIR DiagnosticReport' : ''].filter(Boolean);
  return [
    `select:   ${sel.join('; ')}`,
    `segment:  ${p.pipeline.structures.join(', ')} with ${p.pipeline.segmenter}${p.pipeline.fallbackSegmenter ? ` (fallback ${p.pipeline.fallbackSegmenter})` : ''}`,
    `write:    ${out.join(', ')}; store ${p.store.method === 'default' ? 'by DFA_STORE' : p.store.method}${p.rerun ? '; re-run finished studies' : ''}`,
  ];
}
