import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DfaError } from '../../core/errors.ts';
import { maskPatientText } from '../../core/redact.ts';
import { PlanSchema, type Plan } from '../../agent/plan.ts';
import { planGoal } from '../../agent/planner/index.ts';
import { dryRun, runPlan, type RunProgress, type RunResult } from '../../agent/runner.ts';
import { openAgent, wireServices } from '../../agent/wiring.ts';
import type { Verb, VerbContext } from '../verb.ts';
import { livenessFromConfig } from '../../agent/jobs/liveness.ts';

async function planFrom(goal: string, planJson: string | undefined, ctx: VerbContext): Promise<Plan> {
  if (planJson) {
    const raw = await readFile(planJson, 'utf8').catch((e: unknown) => {
      throw new DfaError('CONFIG_INVALID', `cannot read --plan-json ${planJson}`, { cause: e });
    });
    const r = PlanSchema.safeParse(JSON.parse(raw));
    if (!r.success) throw new DfaError('GOAL_UNSUPPORTED', `invalid plan in ${planJson}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return goal ? { ...r.data, goal } : r.data;
  }
  if (!goal) throw new DfaError('GOAL_UNSUPPORTED', 'no goal given (usage: dfa run "<goal>")');
  return await planGoal(goal, ctx.config);
}

function progressLine(p: RunProgress): string {
  const what =
    p.action === 'already-done' ? 'already done'
    : p.status === 'running' ? `running ${p.step ?? 'start'}`
    : p.status === 'queued' ? 'queued'
    : `${p.status}${p.reason ? ` — ${p.reason}` : ''}`;
  return `  ${p.studyInstanceUid}  ${what}`;
}

function summaryLines(r: RunResult): string[] {
  const lines = [`Run ${r.runId}: ${r.summary.succeeded} succeeded, ${r.summary.failed} failed, ${r.summary.skipped} skipped`];
  for (const j of r.jobs) {
    lines.push(`  ${j.status.padEnd(9)} ${j.studyInstanceUid} (${j.imagingStudy})${j.reason ? ` — ${j.step ? `${j.step}: ` : ''}${j.reason}` : ''}`);
    if (j.rtstruct) lines.push(`            RTSTRUCT ${j.rtstruct.sopInstanceUid}`);
    if (j.seg) lines.push(`            SEG      ${j.seg.sopInstanceUid}`);
    if (j.diagnosticReport) lines.push(`            ${j.diagnosticReport}`);
    if (j.volumesMl) lines.push(`            volumes ${Object.entries(j.volumesMl).map(([k, v]) => `${k} ${Math.round(v)} mL`).join(', ')}`);
    const total = Object.values(j.timingsMs).reduce((a, b) => a + b, 0);
    if (total > 0) lines.push(`            ${Math.round(total)} ms (${Object.entries(j.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  }
  lines.push('Audit: npx dfa jobs --run ' + r.runId);
  return lines;
}

export const verb: Verb = {
  summary: 'run a goal: find the studies, one durable job per study, wait, report (exit 1 if a job failed)',
  usage: [
    'npx dfa run "Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"',
    'npx dfa run --json "contour the lungs on CT studies registered since Monday, SEG only"',
    'npx dfa run --dry-run "Analyze all pending CT scans for lung segmentation"     # plan + studies, changes nothing',
    'npx dfa run --plan-json plan.json                                               # a plan from `dfa plan --json`',
    'DFA_DATABASE_URL=postgres://dfa@db/dfa npx dfa run --workers 0 "<goal>"          # only enqueue; `dfa worker`s run the jobs',
  ],
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        'plan-json': { type: 'string' },
        workers: { type: 'string' },
      },
    });
    const plan = await planFrom(positionals.join(' ').trim(), values['plan-json'], ctx);
    const workers = values.workers === undefined ? ctx.config.DFA_CONCURRENCY : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0) throw new DfaError('CONFIG_INVALID', `--workers must be a whole number ≥ 0, not '${values.workers}'`);

    if (values['dry-run']) {
      const s = await wireServices(ctx.config, ctx.log);
      try {
        const d = await dryRun(plan, s.deps);
        if (values.json) ctx.out(JSON.stringify(d, null, 2));
        else {
          ctx.out(`Goal: ${maskPatientText(plan.goal)}`); // console output is a log too: no MRN (issue 10 §6)
          for (const u of plan.understood) ctx.out(`  - ${maskPatientText(u)}`);
          ctx.out(`Would process ${d.studies.length} stud${d.studies.length === 1 ? 'y' : 'ies'} (dry run: nothing changed):`);
          for (const st of d.studies) ctx.out(`  ${st.studyInstanceUid}  ${st.imagingStudy}  [${st.modalities.join(', ')}]`);
        }
        return 0;
      } finally {
        await s.close();
      }
    }

    // The plan may name the store method (e.g. "store via STOW"); else DFA_STORE. Note: `dfa worker`
    // processes elsewhere store with their own DFA_STORE.
    const config = plan.store.method === 'default' ? ctx.config : { ...ctx.config, DFA_STORE: plan.store.method };
    const agent = await openAgent(config, ctx.log, { checkPacs: true });
    try {
      if (!values.json) ctx.out(`Goal: ${maskPatientText(plan.goal)}`); // console output is a log too: no MRN (issue 10 §6)
      const r = await runPlan(plan, agent.db, agent.deps, {
        workers,
        liveness: livenessFromConfig(ctx.config),
        onProgress: values.json ? undefined : (p) => ctx.out(progressLine(p)),
      });
      if (values.json) {
        const { runId, goal, plan: p, jobs, summary } = r;
        ctx.out(JSON.stringify({ goal, plan: p, runId, jobs, summary }, null, 2));
      } else {
        for (const l of summaryLines(r)) ctx.out(l);
      }
      return r.summary.failed > 0 ? 1 : 0;
    } finally {
      await agent.close();
    }
  },
};
