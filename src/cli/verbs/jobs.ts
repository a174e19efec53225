import { DfaError } from '../../core/errors.ts';
import { AuditStore, type JobRecord } from '../../storage/audit.ts';
import { openDatabase } from '../../storage/db.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';
import { roundMl } from '../../core/phi.ts';
import { whoLine, whoOf } from '../../agent/who.ts';

function summaryText(s: unknown): string {
  const x = (s ?? {}) as { succeeded?: number; failed?: number; skipped?: number };
  return `${x.succeeded ?? 0} succeeded, ${x.failed ?? 0} failed, ${x.skipped ?? 0} skipped`;
}

function row(j: JobRecord & { runAction?: string }, showPhi: boolean): string {
  const took = Object.values(j.timingsMs).reduce((a, b) => a + b, 0);
  const why = j.runAction === 'already-done' ? ' (already done before this run)' : j.reason ? ` — ${j.step ?? ''}: ${j.reason}` : '';
  return [
    `${j.status.padEnd(9)} ${whoLine(whoOf(j.workItem, showPhi))}${why}`,
    `          study ${j.studyInstanceUid}  ${j.imagingStudy ?? ''}`,
    `          job ${j.jobKey} gen ${j.generation}, run ${j.runId}, ${j.attempts} attempt(s), ${Math.round(took)} ms, updated ${j.updatedAt.toISOString()}`,
    ...(j.inputSeries.length ? [`          in  series ${j.inputSeries.join(', ')}`] : []),
    ...(j.outputSops.length ? [`          out SOP ${j.outputSops.join(', ')}`] : []),
    ...(j.fhirWritten.length ? [`          FHIR ${j.fhirWritten.map((w) => `${w.reference}${w.versionId ? `/_history/${w.versionId}` : ''}`).join(', ')}`] : []),
    ...(j.model ? [`          model ${j.model.name} ${j.model.version}${(j.result as { fallbackUsed?: boolean } | null)?.fallbackUsed ? ' (fallback)' : ''}`] : []),
    ...(j.volumesMl ? [`          volumes ${Object.entries(j.volumesMl).map(([k, v]) => `${k} ${roundMl(v)}`).join(', ')}`] : []),
  ].join('\n');
}

const FLAGS = defineFlags({
  run: { type: 'string', value: 'id', help: 'the jobs of one run' },
  runs: { type: 'boolean', help: 'recent goal runs with their summaries' },
  events: { type: 'string', value: 'jobKey', help: "one job's events" },
  limit: { type: 'string', value: 'n', help: 'at most n rows (default 100)' },
  'show-phi': { type: 'boolean', help: 'full MRNs and names (default: masked, ***4567)' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'list the audit table: per job, input and output UIDs, FHIR resources, model, timings, outcome',
  usage: [
    'npx dfa jobs',
    'npx dfa jobs --json --run 3f1c2a9e-…             # the jobs one `dfa run` touched',
    'npx dfa jobs --events "<job key>"                 # one job\'s events (steps, retries, fallback)',
    'npx dfa jobs --runs                               # recent goal runs with their summaries',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values } = parseVerbArgs(FLAGS, args);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new DfaError('CONFIG_INVALID', `--limit must be a whole number ≥ 1`);
    const db = await openDatabase(ctx.config);
    try {
      const audit = new AuditStore(db.pool);
      if (values.runs) {
        const runs = await audit.listRuns(limit);
        if (values.json) ctx.out(JSON.stringify(runs, null, 2));
        else if (runs.length === 0) ctx.out('No runs yet. Start one: npx dfa run "<goal>" (or npx dfa demo to try it on phantoms).');
        else for (const r of runs) ctx.out(`${r.runId}  ${r.startedAt.toISOString()}  ${r.finishedAt ? summaryText(r.summary) : 'running'}  ${r.goal}`);
        return 0;
      }
      if (values.events) {
        const ev = await audit.events(values.events);
        if (values.json) ctx.out(JSON.stringify(ev, null, 2));
        else for (const e of ev) ctx.out(`${e.at.toISOString()}  g${e.generation}  ${e.kind.padEnd(9)} ${e.step ?? ''}${e.message ? `  ${e.message}` : ''}`);
        return 0;
      }
      const jobs = await audit.listJobs({ runId: values.run, limit });
      if (values.json) ctx.out(JSON.stringify(jobs, null, 2));
      else if (jobs.length === 0) ctx.out(values.run ? `No jobs in run ${values.run}.` : 'No jobs yet. Run a goal: npx dfa run "<goal>" (or npx dfa demo).');
      else for (const j of jobs) ctx.out(row(j, values['show-phi']));
      return 0;
    } finally {
      await db.close();
    }
  },
};
