import { readFile } from 'node:fs/promises';
import { DfaError } from '../../core/errors.ts';
import { maskPatientText } from '../../core/redact.ts';
import { PlanSchema, type Plan } from '../../agent/plan.ts';
import { planGoal } from '../../agent/planner/index.ts';
import { dryRun, runPlan, type RunProgress, type RunResult } from '../../agent/runner.ts';
import { openAgent, wireServices } from '../../agent/wiring.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb, VerbContext } from '../verb.ts';
import { roundMl } from '../../core/phi.ts';
import { seriesLine, whoLine } from '../../agent/who.ts';
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
    : p.status === 'running' && p.waiting ? `${p.waiting} (after ${p.step ?? 'start'})`
    : p.status === 'running' ? `running ${p.step ?? 'start'}`
    : p.status === 'queued' ? 'queued'
    : `${p.status}${p.reason ? ` — ${p.reason}` : ''}`;
  return `  ${p.studyInstanceUid}  ${what}`;
}

/** Where results go, for people: the configured PACS (or the embedded one). */
function pacsName(ctx: VerbContext): string {
  return ctx.config.DFA_PACS_AET ? `PACS ${ctx.config.DFA_PACS_AET}@${ctx.config.DFA_PACS_HOST}` : 'the embedded PACS';
}

function summaryLines(r: RunResult, ctx: VerbContext): string[] {
  const lines = [`Run ${r.runId}: ${r.summary.succeeded} succeeded, ${r.summary.failed} failed, ${r.summary.skipped} skipped, ${r.summary.review} awaiting review`];
  for (const j of r.jobs) {
    lines.push(`  ${j.status.padEnd(9)} ${j.who ? whoLine(j.who) : j.studyInstanceUid}${j.reason ? ` — ${j.step ? `${j.step}: ` : ''}${j.reason}` : ''}`);
    lines.push(`            study ${j.studyInstanceUid} (${j.imagingStudy})`);
    if (j.input) {
      const s = j.who?.series.find((x) => x.uid === j.input!.seriesInstanceUid);
      lines.push(`            input series ${j.input.seriesInstanceUid}${s?.description ? ` '${s.description}'` : ''}${j.input.slices ? `, ${j.input.slices} slices` : ''}`);
    }
    if (j.model) lines.push(`            model ${j.model.name} ${j.model.version}${j.fallbackUsed ? ' (FALLBACK: the planned model failed QC; see npx dfa jobs --events)' : ''}`);
    if (j.rtstruct) lines.push(`            RTSTRUCT → ${pacsName(ctx)}: SOP ${j.rtstruct.sopInstanceUid}${j.rtstruct.path ? `; local copy ${j.rtstruct.path}` : ''}`);
    if (j.seg) lines.push(`            SEG      → ${pacsName(ctx)}: SOP ${j.seg.sopInstanceUid}${j.seg.path ? `; local copy ${j.seg.path}` : ''}`);
    if (j.diagnosticReport) lines.push(`            FHIR ${j.diagnosticReport}`);
    if (j.status === 'review') lines.push(`            review: npx dfa review approve|reject ${j.studyInstanceUid}  (or the dashboard)`);
    if (j.volumesMl) lines.push(`            volumes ${Object.entries(j.volumesMl).map(([k, v]) => `${k} ${roundMl(v)}`).join(', ')}`);
    const total = Object.values(j.timingsMs).reduce((a, b) => a + b, 0);
    if (total > 0) lines.push(`            ${Math.round(total)} ms (${Object.entries(j.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  }
  if (r.jobs.length === 0) lines.push('  No study matched the goal. Add studies with `npx dfa store <files>` + `npx dfa register --all`, or try `npx dfa demo`.');
  lines.push('Audit: npx dfa jobs --run ' + r.runId);
  return lines;
}

const FLAGS = defineFlags({
  'dry-run': { type: 'boolean', help: 'plan + the studies it would process; changes nothing' },
  'plan-json': { type: 'string', value: 'file', help: 'run a plan from `dfa plan --json`' },
  workers: { type: 'string', value: 'n', help: 'workers in this process (0 = only enqueue)' },
  'show-phi': { type: 'boolean', help: 'full MRNs and names (default: masked, ***4567)' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'run a goal: find the studies, one durable job per study, wait, report (exit 1 if a job failed, 3 if none failed but some await review)',
  usage: [
    'npx dfa run "Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"',
    'npx dfa run --json "contour the lungs on CT studies registered since Monday, SEG only"',
    'npx dfa run --dry-run "Analyze all pending CT scans for lung segmentation"     # plan + studies, changes nothing',
    'npx dfa run --plan-json plan.json                                               # a plan from `dfa plan --json`',
    'DFA_DATABASE_URL=postgres://dfa@db/dfa npx dfa run --workers 0 "<goal>"          # only enqueue; `dfa worker`s run the jobs',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const plan = await planFrom(positionals.join(' ').trim(), values['plan-json'], ctx);
    const workers = values.workers === undefined ? ctx.config.DFA_CONCURRENCY : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0) throw new DfaError('CONFIG_INVALID', `--workers must be a whole number ≥ 0, not '${values.workers}'`);

    if (values['dry-run']) {
      const s = await wireServices(ctx.config, ctx.log);
      try {
        const d = await dryRun(plan, s.deps, { showPhi: values['show-phi'] });
        if (values.json) ctx.out(JSON.stringify(d, null, 2));
        else {
          ctx.out(`Goal: ${maskPatientText(plan.goal)}`); // console output is a log too: no MRN (issue 10 §6)
          for (const u of plan.understood) ctx.out(`  - ${maskPatientText(u)}`);
          ctx.out(`Would process ${d.studies.length} stud${d.studies.length === 1 ? 'y' : 'ies'} (dry run: nothing changed):`);
          for (const st of d.studies) {
            ctx.out(`  ${whoLine(st.who)}`);
            ctx.out(`      study ${st.studyInstanceUid} (${st.imagingStudy}) [${st.modalities.join(', ')}]`);
            const series = seriesLine(st.who, plan.selection.modality);
            if (series) ctx.out(`      series ${series}`);
          }
          if (d.studies.length === 0) {
            ctx.out('  No study matches. Add studies: `npx dfa store <files>` then `npx dfa register --all`; or try everything on phantoms: `npx dfa demo`.');
          }
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
        showPhi: values['show-phi'],
        liveness: livenessFromConfig(ctx.config),
        onProgress: values.json ? undefined : (p) => ctx.out(progressLine(p)),
      });
      if (values.json) {
        const { runId, goal, plan: p, jobs, summary } = r;
        ctx.out(JSON.stringify({ goal, plan: p, runId, jobs, summary }, null, 2));
      } else {
        for (const l of summaryLines(r, ctx)) ctx.out(l);
      }
      // 3: nothing failed, but contours wait for a person (not done, not an error): scripts must not
      // take the run for finished work.
      return r.summary.failed > 0 ? 1 : r.summary.review > 0 ? 3 : 0;
    } finally {
      await agent.close();
    }
  },
};
