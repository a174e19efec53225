import type pg from 'pg';
import type { JobEvent } from './audit.ts';

/**
 * Read-side queries the API needs beyond the audit store's own: one run by id, and the event feed
 * (events after a cursor id, optionally for one goal run) that the SSE stream tails. Events are
 * rows in PostgreSQL, so a stream sees events from every worker process, not just this one.
 */
export interface RunRow {
  readonly runId: string;
  readonly goal: string;
  readonly plan: unknown;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly summary: unknown;
  /** Who started it: `oidc:<sub>`, `token:token`, `none:anonymous`, `standing-goal`, or null (CLI). */
  readonly startedBy: string | null;
}

export async function getRun(pool: pg.Pool, runId: string): Promise<RunRow | undefined> {
  const { rows } = await pool.query('select run_id, goal, plan, started_at, finished_at, summary, started_by from dfa.runs where run_id = $1', [runId]);
  const r = rows[0];
  return r ? { runId: r.run_id, goal: r.goal, plan: r.plan, startedAt: r.started_at, finishedAt: r.finished_at, summary: r.summary, startedBy: r.started_by } : undefined;
}

export async function eventsAfter(pool: pg.Pool, afterId: number, runId?: string, limit = 500): Promise<JobEvent[]> {
  const { rows } = runId
    ? await pool.query(
        `select e.id, e.job_key, e.generation, e.at, e.step, e.kind, e.message, e.data
         from dfa.job_events e join dfa.run_jobs r on r.job_key = e.job_key and r.run_id = $2
         where e.id > $1 order by e.id limit $3`,
        [afterId, runId, limit],
      )
    : await pool.query(
        'select id, job_key, generation, at, step, kind, message, data from dfa.job_events where id > $1 order by id limit $2',
        [afterId, limit],
      );
  return rows.map((r) => ({ id: String(r.id), jobKey: r.job_key, generation: r.generation, at: r.at, step: r.step, kind: r.kind, message: r.message, data: r.data }));
}

/** The newest job event id (0 when there is none): where a stream that wants only new events starts. */
export async function latestEventId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string | null }>('select max(id) as id from dfa.job_events');
  return Number(rows[0]?.id ?? 0);
}
