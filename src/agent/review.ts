import { DfaError } from '../core/errors.ts';
import type { JobDeps } from './jobs/deps.ts';
import { JobQueue, type QueueOptions } from './jobs/queue.ts';
import { startWorkers } from './jobs/worker.ts';
import type { RetryTiming } from './jobs/retry.ts';
import { AuditStore, SETTLED, type JobRecord } from '../storage/audit.ts';
import type { Database } from '../storage/db.ts';

/** A person's decision on contours that wait at the review gate. */
export interface ReviewSubmission {
  readonly decision: 'approve' | 'reject';
  /** Who decided: the API's authenticated caller, or the CLI's user. Recorded in the audit and FHIR Provenance. */
  readonly reviewer: string;
  readonly comment?: string;
}

/**
 * The job a person means: a job key as it is, or a StudyInstanceUID with exactly one job waiting
 * for review (several plans may have contoured the same study: then the job key is needed).
 */
export async function resolveReviewJob(audit: AuditStore, ref: string): Promise<string> {
  if (await audit.getJob(ref)) return ref;
  const waiting = (await audit.listReviews(1000)).filter((j) => j.studyInstanceUid === ref);
  if (waiting.length === 1) return waiting[0].jobKey;
  if (waiting.length > 1) {
    throw new DfaError('CONFIG_INVALID', `study ${ref} has ${waiting.length} jobs waiting for review; name one by its job key: ${waiting.map((j) => j.jobKey).join(', ')}`);
  }
  throw new DfaError('JOB_NOT_FOUND', `no job ${ref} and no job of that study waiting for review (npx dfa review list)`);
}

/**
 * Records the decision and queues the job again in one transaction; the job resumes at its review
 * gate on whichever worker takes it (approve → store …; reject → ends with the reviewer's reason).
 */
export async function submitReview(db: Database, ref: string, s: ReviewSubmission, queueOpts?: QueueOptions): Promise<JobRecord> {
  if (!s.reviewer.trim()) throw new DfaError('CONFIG_INVALID', 'a review needs the reviewer’s identity');
  const audit = new AuditStore(db.pool);
  const key = await resolveReviewJob(audit, ref);
  const queue = await JobQueue.open(db.url, queueOpts);
  try {
    return await audit.decideReview(key, s, (tx, generation) => queue.enqueue({ jobKey: key, generation }, tx));
  } finally {
    await queue.stop();
  }
}

/**
 * For the CLI on the embedded database (no `dfa serve` running the queue): run workers here until
 * the job settles, as `dfa run` does for its jobs. Returns the job's final row.
 */
export async function runUntilSettled(
  db: Database,
  deps: JobDeps,
  jobKey: string,
  opts: { workers: number; retry?: RetryTiming; queue?: QueueOptions; pollMs?: number },
): Promise<JobRecord> {
  const audit = new AuditStore(db.pool);
  const workers = opts.workers > 0 ? await startWorkers(db, deps, { concurrency: opts.workers, retry: opts.retry, queue: opts.queue }) : undefined;
  try {
    workers?.notify();
    for (;;) {
      const j = await audit.getJob(jobKey);
      if (!j) throw new DfaError('JOB_NOT_FOUND', `job ${jobKey} vanished`);
      if (SETTLED.includes(j.status)) return j;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  } finally {
    await workers?.stop();
  }
}
