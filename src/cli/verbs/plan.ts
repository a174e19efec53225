import { parseArgs } from 'node:util';
import { DfaError } from '../../core/errors.ts';
import { planGoal } from '../../agent/planner/index.ts';
import type { Verb } from '../verb.ts';

export const verb: Verb = {
  summary: 'turn a goal into a typed plan and print what was understood (changes nothing)',
  usage: [
    'npx dfa plan "Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"',
    'npx dfa plan --json "contour the lungs on CT studies registered since Monday for patient 123, SEG only"',
    'DFA_LLM_BASE_URL=http://127.0.0.1:11434/v1 DFA_LLM_MODEL=qwen2.5 npx dfa plan --planner llm "do the lungs on new CTs"',
  ],
  flags: [
    '--json             the plan (or the refusal) as JSON on stdout',
    '--planner <rules|llm>  which planner (default rules unless DFA_LLM_BASE_URL)',
  ],
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, planner: { type: 'string' } },
    });
    const goal = positionals.join(' ').trim();
    if (!goal) throw new DfaError('GOAL_UNSUPPORTED', 'no goal given (usage: dfa plan "<goal>")');
    const planner = values.planner === undefined ? undefined : values.planner === 'llm' ? 'llm' : values.planner === 'rules' ? 'rules' : undefined;
    if (values.planner !== undefined && planner === undefined) throw new DfaError('CONFIG_INVALID', `--planner must be rules or llm, not '${values.planner}'`);
    const plan = await planGoal(goal, ctx.config, { planner });
    if (values.json) {
      ctx.out(JSON.stringify(plan, null, 2));
      return 0;
    }
    ctx.out(`Goal: ${goal}`);
    ctx.out('Understood:');
    for (const u of plan.understood) ctx.out(`  - ${u}`);
    ctx.out('Plan:');
    ctx.out(JSON.stringify({ ...plan, understood: undefined, goal: undefined }, null, 2));
    return 0;
  },
};
