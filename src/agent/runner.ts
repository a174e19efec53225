import { selectStudies } from './select-studies.ts';
import { randomUUID } from 'node:crypto';
import type { WorkItem } from '../core/ports.ts';
import { AuditStore, SETTLED, type ClaimAction, type JobRecord } from '../storage/audit.ts';
import type { Database } from '../storage/db.ts';
import type { JobDeps } from './jobs/deps.ts';
import { STEPS } from './jobs/graph.ts';
import type { JobResult } from './jobs/result.ts';
import { JobQueue, type QueueOptions } from './jobs/queue.ts';
import type { LivenessOptions } from './jobs/liveness.ts';
import type { RetryTiming } from './jobs/retry.ts';
import { startWorkers, type Workers } from './jobs/worker.ts';
import { wakeWorkers } from './jobs/wake-up.ts';
import { jobKey, planKey, type Plan } from './plan.ts';
import { whoOf, type StudyWho } from './who.ts';

/** `dfa run --json` (DESIGN.md "Contracts"). */
export interface RunResult {
  readonly runId: string;
  readonly goal: string;
  readonly plan: Plan;
  readonly jobs: readonly JobResult[];
  /** `review`: jobs that stopped before `store` for a person's decision (dfa review / the dashboard). */
  readonly summary: { readonly succeeded: number; readonly failed: number; readonly skipped: number; readonly review: number };
}

export interface DryRunResult {
  readonly goal: string;
  readonly plan: Plan;
  readonly dryRun: true;
  readonly studies: readonly {
    readonly studyInstanceUid: string;
    readonly imagingStudy: string;
    readonly jobKey: string;
    readonly modalities: readonly string[];
    readonly who: StudyWho;
  }[];
}

/** Progress while a run works: one call per study whose step or status changed. */
export interface RunProgress {
  readonly studyInstanceUid: string;
  readonly jobKey: string;
  readonly status: JobRecord['status'];
  readonly step: string | null;
  readonly reason: string | null;
  /** "waiting for PACS since …" while the job waits out an outage (src/agent/jobs/outage.ts). */
  readonly waiting?: string | null;
  readonly action: ClaimAction;
}

export interface RunOptions {
  /** Workers in this process (default 1); 0 = only enqueue and wait for `dfa worker` processes. */
  readonly workers?: number;
  readonly runId?: string;
  /** Recorded in the run's audit row: who asked (API caller, standing goal). */
  readonly startedBy?: string;
  readonly onProgress?: (p: RunProgress) => void;
  readonly pollMs?: number;
  readonly retry?: RetryTiming;
  readonly queue?: QueueOptions;
  /** Full MRNs and names in the result (default masked). */
  readonly showPhi?: boolean;
  /** For the workers in this process on a shared database (DFA_WORKER_HEARTBEAT_S / DFA_WORKER_DEAD_AFTER_S). */
  readonly liveness?: LivenessOptions;
}

/** The studies a plan selects, from the FHIR worklist (every restriction applied; see select-studies.ts). */
export async function findWork(plan: Plan, deps: Pick<JobDeps, 'fhir'>): Promise<WorkItem[]> {
  return selectStudies(plan, deps.fhir);
}

export async function dryRun(plan: Plan, deps: Pick<JobDeps, 'fhir'>, opts: { showPhi?: boolean } = {}): Promise<DryRunResult> {
  const items = await findWork(plan, deps);
  return {
    goal: plan.goal,
    plan,
    dryRun: true,
    studies: items.map((w) => ({ studyInstanceUid: w.studyInstanceUid, imagingStudy: w.imagingStudy, jobKey: jobKey(plan, w.studyInstanceUid), modalities: w.modalities, who: whoOf(w, opts.showPhi) })),
  };
}

/**
 * Run a plan: find the studies, create one job per study (deduplicated by job key: a job that
 * already ended is reported `skipped` / "already done" unless plan.rerun; failed ones are retried),
 * let the workers (here and/or other `dfa worker` processes) run them, wait, and report.
 */
export async function runPlan(plan: Plan, db: Database, deps: JobDeps, opts: RunOptions = {}): Promise<RunResult> {
  const runId = opts.runId ?? randomUUID();
  const audit = new AuditStore(db.pool);
  const items = await findWork(plan, deps);
  const nWorkers = opts.workers ?? 1;
  let workers: Workers | undefined;
  const queue = await JobQueue.open(db.url, opts.queue);
  try {
    // Workers first: on the embedded database they hand back jobs a killed process left active.
    if (nWorkers > 0) workers = await startWorkers(db, deps, { concurrency: nWorkers, retry: opts.retry, queue: opts.queue, liveness: opts.liveness });
    await audit.startRun({ runId, goal: plan.goal, plan, planKey: planKey(plan), startedBy: opts.startedBy });
    const actions = new Map<string, ClaimAction>();
    for (const item of items) {
      const key = jobKey(plan, item.studyInstanceUid);
      const { action, job } = await audit.claimJob({
        jobKey: key,
        planKey: planKey(plan),
        runId,
        plan,
        item,
        rerun: plan.rerun,
        enqueue: (tx, generation) => queue.enqueue({ jobKey: key, generation }, tx),
      });
      actions.set(key, action);
      if (action === 'enqueue') await audit.event(key, job.generation, 'queued', undefined, `run ${runId}`);
    }
    workers?.notify();
    // `dfa worker` processes on a shared database: fetch now, not at their next poll.
    if (!db.embedded && actions.size > 0) await wakeWorkers(db.pool).catch((e: unknown) => deps.log.debug('could not wake the workers; they poll', { error: String(e) }));
    for (const key of await audit.adoptUnfinished(runId, planKey(plan))) actions.set(key, 'in-flight');
    const rows = await waitForJobs(audit, runId, actions, opts);
    const jobs = rows.map((r) => toResult(r, actions.get(r.jobKey) ?? 'enqueue', opts.showPhi));
    const summary = {
      succeeded: jobs.filter((j) => j.status === 'succeeded').length,
      failed: jobs.filter((j) => j.status === 'failed').length,
      skipped: jobs.filter((j) => j.status === 'skipped').length,
      review: jobs.filter((j) => j.status === 'review').length,
    };
    await audit.finishRun(runId, summary);
    return { runId, goal: plan.goal, plan, jobs, summary };
  } finally {
    await workers?.stop();
    await queue.stop();
  }
}

async function waitForJobs(audit: AuditStore, runId: string, actions: Map<string, ClaimAction>, opts: RunOptions): Promise<JobRecord[]> {
  const seen = new Map<string, string>();
  for (;;) {
    // The light query while waiting; the full rows (plan, result, timings) once, at the end.
    const rows = await audit.listJobStates(runId);
    for (const r of rows) {
      const sig = `${r.status}|${r.step ?? ''}|${r.waiting ?? ''}`;
      if (seen.get(r.jobKey) !== sig) {
        seen.set(r.jobKey, sig);
        opts.onProgress?.({ studyInstanceUid: r.studyInstanceUid, jobKey: r.jobKey, status: r.status, step: r.step, reason: r.reason, waiting: r.waiting, action: actions.get(r.jobKey) ?? 'enqueue' });
      }
    }
    if (rows.every((r) => SETTLED.includes(r.status))) return await audit.listJobs({ runId });
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 250));
  }
}

const STEP_ORDER = [...STEPS.map(([name]) => name), 'finish'] as readonly string[];

/** Timings in step order (the audit table's jsonb keeps keys in its own order). */
function orderedTimings(t: Readonly<Record<string, number>>): Record<string, number> {
  const rank = (k: string) => (STEP_ORDER.includes(k) ? STEP_ORDER.indexOf(k) : STEP_ORDER.length);
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => rank(a) - rank(b)));
}

function toResult(r: JobRecord, action: ClaimAction, showPhi = false): JobResult {
  const base = { studyInstanceUid: r.studyInstanceUid, imagingStudy: r.imagingStudy ?? '', who: whoOf(r.workItem, showPhi) };
  if (action === 'already-done' && r.status === 'review') {
    return { ...base, status: 'review', reason: `awaits contour review since an earlier run (${r.reason ?? ''})`, step: r.step ?? undefined, timingsMs: {} };
  }
  if (action === 'already-done') {
    const reason = r.status === 'skipped' ? `already done (skipped: ${r.reason ?? ''})` : 'already done';
    return { ...base, status: 'skipped', reason, timingsMs: {} };
  }
  const x = (r.result ?? {}) as Partial<JobResult>;
  // Field order as in DESIGN.md "Contracts", then the extras.
  return {
    ...base,
    status: r.status === 'succeeded' || r.status === 'skipped' || r.status === 'review' ? r.status : 'failed',
    reason: r.reason ?? undefined,
    step: r.status === 'succeeded' ? undefined : (r.step ?? undefined),
    coverage: x.coverage,
    rtstruct: x.rtstruct,
    seg: x.seg,
    diagnosticReport: x.diagnosticReport,
    volumesMl: x.volumesMl,
    timingsMs: orderedTimings(r.timingsMs),
    task: x.task,
    provenance: x.provenance,
    model: x.model,
    fallbackUsed: x.fallbackUsed,
    previews: x.previews,
    review: x.review,
    input: x.input,
    fallbackReason: x.fallbackReason,
    qcLimits: x.qcLimits,
  };
}
