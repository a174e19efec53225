import { Command } from '@langchain/langgraph';
import { toDfaError } from '../../core/errors.ts';
import type { AuditStore, JobRecord } from '../../storage/audit.ts';
import type { Plan } from '../plan.ts';
import type { JobGraph } from './graph.ts';
import { resultOf } from './result.ts';
import type { JobState } from './state.ts';

/** What the queue carries: which job, which generation (a re-run is a new generation / thread). */
export interface JobMessage {
  readonly jobKey: string;
  readonly generation: number;
}

export function threadId(m: JobMessage): string {
  return `${m.jobKey}#${m.generation}`;
}

/**
 * Run (or resume) one job to its end. The checkpointer decides where to start: a fresh thread
 * starts at `find`; a thread with a checkpoint resumes at the step after the last one finished
 * (kill -9 at any point loses at most the step in progress, which is idempotent). When a step's
 * retries are used up the graph throws; the job is then routed to `finish` as failed at that step.
 * Returns the audit row, or undefined for a stale message (that generation already ended).
 */
export async function executeJob(graph: JobGraph, audit: AuditStore, msg: JobMessage): Promise<JobRecord | undefined> {
  const row = await audit.markRunning(msg.jobKey, msg.generation);
  if (!row) return undefined;
  // durability 'sync': a step's checkpoint is in the database before the next step starts, so a
  // kill -9 can lose at most the step in progress (LangGraph's default 'async' may lose one more).
  const config = { configurable: { thread_id: threadId(msg) }, durability: 'sync' as const };
  const snap = await graph.getState(config);
  const values = (snap.values ?? {}) as Partial<JobState>;
  // A checkpoint with no next step and no outcome cannot be resumed: start the thread over (every
  // step is idempotent, so this repeats work but never duplicates results).
  const started = values.jobKey !== undefined && (snap.next.length > 0 || values.outcome !== undefined);
  const waiting = started && awaitsReview(snap);
  let final: JobState;
  if (waiting && !row.review?.decision) {
    // Queued again (a restart, a stale message) while still waiting for a person: keep waiting.
    final = snap.values as JobState;
  } else if (started && snap.next.length === 0) {
    final = snap.values as JobState; // ended; only the audit write below was lost
  } else {
    await audit.event(msg.jobKey, msg.generation, waiting ? 'review-decided' : started ? 'resumed' : 'started', snap.next[0]);
    let input: unknown = started ? null : { jobKey: msg.jobKey, generation: msg.generation, plan: row.plan as Plan, item: row.workItem };
    if (waiting && row.review?.decision) {
      const { decision, reviewer, comment, decidedAt } = row.review;
      input = new Command({ resume: { decision, reviewer: reviewer ?? 'unknown', ...(comment ? { comment } : {}), ...(decidedAt ? { decidedAt } : {}) } });
    }
    try {
      final = (await graph.invoke(input as never, config)) as JobState;
    } catch (e) {
      const err = toDfaError(e);
      const at = (await graph.getState(config)).next[0] ?? 'unknown';
      const outcome = { status: 'failed' as const, step: at, reason: `${err.code}: ${err.message} (retries used up)` };
      // As if the step itself had returned the failure: its edge routes to `finish`.
      await graph.updateState(config, { outcome }, at);
      try {
        final = (await graph.invoke(null, config)) as JobState;
      } catch (e2) {
        // `finish` itself cannot reach FHIR: the job still ends, failed, in the audit table.
        const s = (await graph.getState(config)).values as JobState;
        final = { ...s, outcome: { ...outcome, reason: `${outcome.reason}; then finish: ${toDfaError(e2).message}` } };
      }
    }
  }
  const after = await graph.getState(config);
  if (awaitsReview(after)) {
    // Stopped at the review gate: durable (checkpoint + audit row), the worker moves on.
    const reason = reviewRequest(after) ?? 'awaiting contour review';
    const r = { ...resultOf(after.values as JobState), status: 'review' as const, step: 'reviewGate', reason };
    await audit.awaitReview(msg.jobKey, msg.generation, { step: 'reviewGate', reason, result: { ...r } });
    await audit.event(msg.jobKey, msg.generation, 'review', 'reviewGate', reason);
    return await audit.getJob(msg.jobKey);
  }
  const r = resultOf(final);
  await audit.finish(msg.jobKey, msg.generation, { status: r.status, step: r.step, reason: r.reason, result: { ...r } });
  await audit.event(msg.jobKey, msg.generation, r.status, r.step, r.reason);
  return await audit.getJob(msg.jobKey);
}

type Snapshot = Awaited<ReturnType<JobGraph['getState']>>;

/** The thread is paused at an interrupt (only the review gate interrupts). */
function awaitsReview(snap: Snapshot): boolean {
  return (snap.tasks ?? []).some((t) => (t.interrupts ?? []).length > 0);
}

function reviewRequest(snap: Snapshot): string | undefined {
  for (const t of snap.tasks ?? []) {
    for (const i of t.interrupts ?? []) {
      const v = i.value as { reason?: unknown } | undefined;
      if (typeof v?.reason === 'string') return v.reason;
    }
  }
  return undefined;
}
