import type pg from 'pg';
import { DfaError } from '../core/errors.ts';
import type { WorkItem, WrittenRef } from '../core/ports.ts';
import { searchJobs, type JobSearch } from './job-search.ts';

/**
 * The audit record (storage_service): for each job, what went in (study, series), what came out
 * (SOP Instance UIDs, FHIR resources and versions), with which model, how long each step took and
 * how it ended. The row keyed by job key is also the dedup guard: one job per (plan, study).
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'review';
export const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'skipped'];
/** Where a goal run stops waiting for a job: it ended, or it waits for a person's review. */
export const SETTLED: readonly JobStatus[] = [...TERMINAL, 'review'];

/** A contour review: why the job waits and, once decided, what a person decided. */
export interface ReviewRecord {
  readonly reason: string;
  readonly requestedAt: string;
  readonly decision?: 'approve' | 'reject';
  readonly reviewer?: string;
  readonly comment?: string;
  readonly decidedAt?: string;
}

export interface JobRecord {
  readonly jobKey: string;
  readonly planKey: string;
  readonly runId: string;
  readonly generation: number;
  readonly studyInstanceUid: string;
  readonly imagingStudy: string | null;
  readonly status: JobStatus;
  readonly step: string | null;
  readonly reason: string | null;
  readonly plan: unknown;
  readonly workItem: WorkItem;
  readonly inputSeries: readonly string[];
  readonly outputSops: readonly string[];
  readonly fhirWritten: readonly WrittenRef[];
  readonly model: { name: string; version: string } | null;
  readonly volumesMl: Record<string, number> | null;
  readonly timingsMs: Record<string, number>;
  readonly result: Record<string, unknown> | null;
  readonly attempts: number;
  readonly review: ReviewRecord | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
  /** While an upstream is down: "waiting for PACS since …" (src/agent/jobs/outage.ts). */
  readonly waiting: string | null;
}

export interface JobEvent {
  readonly id: string;
  readonly jobKey: string;
  readonly generation: number;
  readonly at: Date;
  readonly step: string | null;
  readonly kind: string;
  readonly message: string | null;
  readonly data: unknown;
}

/** Runs SQL on one connection (pg-boss's `db` option shape). */
export interface SqlExecutor {
  executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** What a goal run should do with one study it found. */
export type ClaimAction = 'enqueue' | 'in-flight' | 'already-done';

/** Fields a step may add to the audit row as it goes. */
export interface JobProgress {
  readonly step?: string;
  readonly inputSeries?: readonly string[];
  readonly outputSops?: readonly string[];
  readonly fhirWritten?: readonly WrittenRef[];
  readonly model?: { name: string; version: string };
  readonly volumesMl?: Record<string, number>;
  readonly timingMs?: { step: string; ms: number };
}

export const JOB_COLS = `job_key, plan_key, run_id, generation, study_instance_uid, imaging_study, status, step, reason, plan,
  work_item, input_series, output_sops, fhir_written, model, volumes_ml, timings_ms, result, attempts,
  review, created_at, updated_at, finished_at, waiting`;

export class AuditStore {
  readonly pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async startRun(run: { runId: string; goal: string; plan: unknown; planKey: string; startedBy?: string }): Promise<void> {
    await this.pool.query('insert into dfa.runs (run_id, goal, plan, plan_key, started_by) values ($1, $2, $3, $4, $5)', [
      run.runId,
      run.goal,
      JSON.stringify(run.plan),
      run.planKey,
      run.startedBy ?? null,
    ]);
  }

  async finishRun(runId: string, summary: unknown): Promise<void> {
    await this.pool.query('update dfa.runs set finished_at = now(), summary = $2 where run_id = $1', [runId, JSON.stringify(summary)]);
  }

  async listRuns(limit = 20): Promise<{ runId: string; goal: string; startedAt: Date; finishedAt: Date | null; summary: unknown; startedBy: string | null }[]> {
    const { rows } = await this.pool.query(
      'select run_id, goal, started_at, finished_at, summary, started_by from dfa.runs order by started_at desc limit $1',
      [limit],
    );
    return rows.map((r) => ({ runId: r.run_id, goal: r.goal, startedAt: r.started_at, finishedAt: r.finished_at, summary: r.summary, startedBy: r.started_by }));
  }

  /**
   * Decide, atomically, what a goal run does with a study: a new job is queued; a job that already
   * ended is left alone (unless `rerun`, or it failed: a new run retries failures) and reported as
   * already done; a job queued or running elsewhere is waited for. Row lock = no double enqueue.
   */
  async claimJob(a: {
    jobKey: string;
    planKey: string;
    runId: string;
    plan: unknown;
    item: WorkItem;
    rerun: boolean;
    /** Puts the queue message in the same transaction (pg-boss `db` option): both or neither. */
    enqueue?: (tx: SqlExecutor, generation: number) => Promise<void>;
  }): Promise<{
    action: ClaimAction;
    job: JobRecord;
  }> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const ins = await c.query(
        `insert into dfa.jobs (job_key, plan_key, run_id, study_instance_uid, imaging_study, status, plan, work_item)
         values ($1, $2, $3, $4, $5, 'queued', $6, $7) on conflict (job_key) do nothing returning job_key`,
        [a.jobKey, a.planKey, a.runId, a.item.studyInstanceUid, a.item.imagingStudy, JSON.stringify(a.plan), JSON.stringify(a.item)],
      );
      let action: ClaimAction;
      if (ins.rowCount === 1) {
        action = 'enqueue';
      } else {
        const cur = await c.query<{ status: JobStatus }>('select status from dfa.jobs where job_key = $1 for update', [a.jobKey]);
        const status = cur.rows[0].status;
        if (status === 'queued' || status === 'running') action = 'in-flight';
        else if (status === 'failed' || a.rerun) action = 'enqueue';
        else action = 'already-done';
        if (action === 'enqueue') {
          await c.query(
            `update dfa.jobs set status = 'queued', generation = generation + 1, run_id = $2, step = null, reason = null,
               plan = $3, work_item = $4, output_sops = '[]', fhir_written = '[]', timings_ms = '{}', result = null,
               volumes_ml = null, attempts = 0, review = null, updated_at = now(), finished_at = null
             where job_key = $1`,
            [a.jobKey, a.runId, JSON.stringify(a.plan), JSON.stringify(a.item)],
          );
        }
      }
      await c.query('insert into dfa.run_jobs (run_id, job_key, action) values ($1, $2, $3) on conflict do nothing', [a.runId, a.jobKey, action]);
      const { rows } = await c.query(`select ${JOB_COLS} from dfa.jobs where job_key = $1`, [a.jobKey]);
      // A process killed between "row says queued" and "message sent" would strand the job: so the
      // message is written in this transaction (transactional outbox).
      if (action === 'enqueue' && a.enqueue) await a.enqueue({ executeSql: async (text, values) => await c.query(text, values) }, rows[0].generation);
      await c.query('commit');
      return { action, job: toRecord(rows[0]) };
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /**
   * Jobs of the same plan still queued or running (a run killed mid-way left them): this run
   * reports them too, so a restarted run ends only when the old work is done.
   */
  async adoptUnfinished(runId: string, planKey: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ job_key: string }>(
      `insert into dfa.run_jobs (run_id, job_key, action)
       select $1, job_key, 'in-flight' from dfa.jobs where plan_key = $2 and status in ('queued', 'running')
       on conflict do nothing returning job_key`,
      [runId, planKey],
    );
    return rows.map((r) => r.job_key);
  }

  /** A worker took the job: returns the row, or undefined when it already ended (a stale queue message). */
  async markRunning(jobKey: string, generation: number): Promise<JobRecord | undefined> {
    const { rows } = await this.pool.query(
      `update dfa.jobs set status = 'running', attempts = attempts + 1, updated_at = now()
       where job_key = $1 and generation = $2 and status in ('queued', 'running') returning ${JOB_COLS}`,
      [jobKey, generation],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async progress(jobKey: string, generation: number, p: JobProgress): Promise<void> {
    await this.pool.query(
      `update dfa.jobs set
         step = coalesce($3, step),
         input_series = coalesce($4, input_series),
         output_sops = coalesce($5, output_sops),
         fhir_written = coalesce($6, fhir_written),
         model = coalesce($7, model),
         volumes_ml = coalesce($8, volumes_ml),
         timings_ms = case when $9::text is null then timings_ms else jsonb_set(timings_ms, array[$9::text], to_jsonb($10::int)) end,
         updated_at = now()
       where job_key = $1 and generation = $2`,
      [
        jobKey,
        generation,
        p.step ?? null,
        json(p.inputSeries),
        json(p.outputSops),
        json(p.fhirWritten),
        json(p.model),
        json(p.volumesMl),
        p.timingMs?.step ?? null,
        p.timingMs ? Math.round(p.timingMs.ms) : null,
      ],
    );
  }

  async finish(jobKey: string, generation: number, end: { status: 'succeeded' | 'failed' | 'skipped'; step?: string; reason?: string; result: Record<string, unknown> }): Promise<void> {
    await this.pool.query(
      `update dfa.jobs set status = $3, step = coalesce($4, step), reason = $5, result = $6, waiting = null, finished_at = now(), updated_at = now()
       where job_key = $1 and generation = $2`,
      [jobKey, generation, end.status, end.step ?? null, end.reason ?? null, JSON.stringify(end.result)],
    );
  }

  /** The job stopped before `store` for a person's review (its checkpoint waits at the review gate). */
  async awaitReview(jobKey: string, generation: number, w: { step: string; reason: string; result: Record<string, unknown> }): Promise<void> {
    const review: ReviewRecord = { reason: w.reason, requestedAt: new Date().toISOString() };
    await this.pool.query(
      `update dfa.jobs set status = 'review', step = $3, reason = $4, result = $5, review = $6, updated_at = now()
       where job_key = $1 and generation = $2`,
      [jobKey, generation, w.step, w.reason, JSON.stringify(w.result), JSON.stringify(review)],
    );
  }

  /**
   * A person's decision on a job in review, recorded and the job queued again (same generation: it
   * resumes at its review gate) in one transaction with the queue message. Throws JOB_NOT_FOUND, or
   * REVIEW_NOT_PENDING when the job does not wait for a review (already decided, or never asked).
   */
  async decideReview(
    jobKey: string,
    d: { decision: 'approve' | 'reject'; reviewer: string; comment?: string },
    enqueue: (tx: SqlExecutor, generation: number) => Promise<void>,
  ): Promise<JobRecord> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const cur = await c.query<{ status: JobStatus; generation: number; review: ReviewRecord | null }>(
        'select status, generation, review from dfa.jobs where job_key = $1 for update',
        [jobKey],
      );
      if (cur.rowCount === 0) throw new DfaError('JOB_NOT_FOUND', `no job ${jobKey}`);
      const { status, generation, review } = cur.rows[0];
      if (status !== 'review') throw new DfaError('REVIEW_NOT_PENDING', `job ${jobKey} is ${status}, not waiting for a review`);
      const decided: ReviewRecord = {
        ...(review ?? { reason: 'review', requestedAt: new Date().toISOString() }),
        decision: d.decision,
        reviewer: d.reviewer,
        ...(d.comment ? { comment: d.comment } : {}),
        decidedAt: new Date().toISOString(),
      };
      await c.query(`update dfa.jobs set status = 'queued', review = $2, updated_at = now() where job_key = $1`, [jobKey, JSON.stringify(decided)]);
      await c.query('insert into dfa.job_events (job_key, generation, kind, step, message, data) values ($1, $2, $3, $4, $5, $6)', [
        jobKey,
        generation,
        d.decision === 'approve' ? 'approved' : 'rejected',
        'reviewGate',
        `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.reviewer}${d.comment ? `: ${d.comment}` : ''}`,
        JSON.stringify({ reviewer: d.reviewer }),
      ]);
      await enqueue({ executeSql: async (text, values) => await c.query(text, values) }, generation);
      const { rows } = await c.query(`select ${JOB_COLS} from dfa.jobs where job_key = $1`, [jobKey]);
      await c.query('commit');
      return toRecord(rows[0]);
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** Jobs waiting for a person's review, oldest first. */
  async listReviews(limit = 100): Promise<JobRecord[]> {
    const { rows } = await this.pool.query(`select ${JOB_COLS} from dfa.jobs where status = 'review' order by updated_at limit $1`, [limit]);
    return rows.map(toRecord);
  }

  async event(jobKey: string, generation: number, kind: string, step?: string, message?: string, data?: unknown): Promise<void> {
    await this.pool.query('insert into dfa.job_events (job_key, generation, kind, step, message, data) values ($1, $2, $3, $4, $5, $6)', [
      jobKey,
      generation,
      kind,
      step ?? null,
      message ?? null,
      data === undefined ? null : JSON.stringify(data),
    ]);
  }

  /** The job waits out an upstream outage (text), or no longer does (null). */
  async setWaiting(jobKey: string, generation: number, waiting: string | null): Promise<void> {
    await this.pool.query('update dfa.jobs set waiting = $3, updated_at = now() where job_key = $1 and generation = $2', [jobKey, generation, waiting]);
  }

  async getJob(jobKey: string): Promise<JobRecord | undefined> {
    const { rows } = await this.pool.query(`select ${JOB_COLS} from dfa.jobs where job_key = $1`, [jobKey]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Where each job of a run stands, without the plan / result / timings documents: what a waiting
   * runner polls several times a second (listJobs parses every row's jsonb, CPU the workers need).
   */
  async listJobStates(runId: string): Promise<Pick<JobRecord, 'jobKey' | 'studyInstanceUid' | 'status' | 'step' | 'reason' | 'waiting'>[]> {
    const { rows } = await this.pool.query(
      `select j.job_key, j.study_instance_uid, j.status, j.step, j.reason, j.waiting
       from dfa.run_jobs r join dfa.jobs j using (job_key) where r.run_id = $1 order by j.created_at, j.job_key`,
      [runId],
    );
    return rows.map((r: { job_key: string; study_instance_uid: string; status: JobRecord['status']; step: string | null; reason: string | null; waiting: string | null }) => ({
      jobKey: r.job_key,
      studyInstanceUid: r.study_instance_uid,
      status: r.status,
      step: r.step,
      reason: r.reason,
      waiting: r.waiting,
    }));
  }

  /** All jobs, or those a goal run touched (with what that run did about each). */
  async listJobs(q: { runId?: string; limit?: number } = {}): Promise<(JobRecord & { runAction?: ClaimAction })[]> {
    if (q.runId) {
      const { rows } = await this.pool.query(
        `select ${JOB_COLS.split(',').map((c) => 'j.' + c.trim()).join(', ')}, r.action as run_action
         from dfa.run_jobs r join dfa.jobs j using (job_key) where r.run_id = $1 order by j.created_at, j.job_key`,
        [q.runId],
      );
      return rows.map((r) => ({ ...toRecord(r), runAction: r.run_action as ClaimAction }));
    }
    const { rows } = await this.pool.query(`select ${JOB_COLS} from dfa.jobs order by updated_at desc limit $1`, [q.limit ?? 100]);
    return rows.map(toRecord);
  }

  /** A filtered page of jobs and how many match in all (src/storage/job-search.ts). */
  async searchJobs(q: JobSearch): Promise<{ jobs: JobRecord[]; total: number }> {
    return await searchJobs(this.pool, q);
  }

  async events(jobKey: string): Promise<JobEvent[]> {
    const { rows } = await this.pool.query(
      'select id, job_key, generation, at, step, kind, message, data from dfa.job_events where job_key = $1 order by id',
      [jobKey],
    );
    return rows.map((r) => ({ id: String(r.id), jobKey: r.job_key, generation: r.generation, at: r.at, step: r.step, kind: r.kind, message: r.message, data: r.data }));
  }
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** One dfa.jobs row (all JOB_COLS) as a JobRecord. */
export function toRecord(r: any): JobRecord {
  return {
    jobKey: r.job_key,
    planKey: r.plan_key,
    runId: r.run_id,
    generation: r.generation,
    studyInstanceUid: r.study_instance_uid,
    imagingStudy: r.imaging_study,
    status: r.status,
    step: r.step,
    reason: r.reason,
    plan: r.plan,
    workItem: r.work_item,
    inputSeries: r.input_series,
    outputSops: r.output_sops,
    fhirWritten: r.fhir_written,
    model: r.model,
    volumesMl: r.volumes_ml,
    timingsMs: r.timings_ms,
    result: r.result,
    attempts: r.attempts,
    review: r.review ?? null,
    createdAt: r.created_at,
    waiting: r.waiting ?? null,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}
