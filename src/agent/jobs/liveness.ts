/**
 * Worker liveness on a shared PostgreSQL. pg-boss (v10) only takes a job back from a worker that
 * died once the job's expiry has passed (30 min by default, since a big study may legitimately run
 * long). With `dfa worker` processes on several machines that meant a machine that died left its
 * studies stalled for half an hour. So each worker process:
 *  - registers itself in dfa.workers and bumps `seen_at` every heartbeat (the database's clock, so
 *    no two machines' clocks are compared);
 *  - records which queue job it has taken in dfa.job_owners;
 *  - on every heartbeat, hands back (pg-boss state `retry`) the active jobs of workers not seen for
 *    `deadAfterSeconds`, and forgets those workers.
 * The job then resumes on a live worker at the step where it stopped (checkpoints), as after an
 * expiry. pg-boss's own expiry stays the fallback (a worker killed between taking a job and
 * recording it). The embedded database serves one process and recovers its own jobs at start.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { JOB_QUEUE } from './queue.ts';

export interface LivenessOptions {
  /** How often this worker says it is alive and looks for dead ones (DFA_WORKER_HEARTBEAT_S). */
  readonly heartbeatSeconds: number;
  /** A worker not seen for this long is dead; its jobs go to others (DFA_WORKER_DEAD_AFTER_S). */
  readonly deadAfterSeconds: number;
}

export function livenessFromConfig(cfg: Pick<Config, 'DFA_WORKER_HEARTBEAT_S' | 'DFA_WORKER_DEAD_AFTER_S'>): LivenessOptions {
  return { heartbeatSeconds: cfg.DFA_WORKER_HEARTBEAT_S, deadAfterSeconds: cfg.DFA_WORKER_DEAD_AFTER_S };
}

export class WorkerLiveness {
  readonly workerId = randomUUID();
  readonly #pool: pg.Pool;
  readonly #opts: LivenessOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;

  private constructor(pool: pg.Pool, opts: LivenessOptions, log: Logger) {
    this.#pool = pool;
    this.#opts = opts;
    this.#log = log;
  }

  static async start(pool: pg.Pool, opts: LivenessOptions, log: Logger): Promise<WorkerLiveness> {
    const l = new WorkerLiveness(pool, opts, log);
    await l.#register();
    await l.reclaim(); // jobs of workers that died while none was running
    l.#timer = setInterval(() => l.#beat(), opts.heartbeatSeconds * 1000);
    l.#timer.unref();
    return l;
  }

  /** This worker has taken queue job `queueJobId` (pg-boss id). */
  async own(queueJobId: string, jobKey: string): Promise<void> {
    await this.#pool.query(
      `insert into dfa.job_owners (queue_job_id, worker_id, job_key) values ($1, $2, $3)
       on conflict (queue_job_id) do update set worker_id = excluded.worker_id, job_key = excluded.job_key, taken_at = now()`,
      [queueJobId, this.workerId, jobKey],
    );
  }

  async disown(queueJobId: string): Promise<void> {
    await this.#pool.query('delete from dfa.job_owners where queue_job_id = $1 and worker_id = $2', [queueJobId, this.workerId]);
  }

  /** Hand back the active jobs of dead workers; returns how many. */
  async reclaim(): Promise<number> {
    const r = await this.#pool.query<{ job_key: string }>(
      `with dead as (
         delete from dfa.workers where seen_at < now() - make_interval(secs => $1) returning worker_id
       ), owned as (
         delete from dfa.job_owners o using dead where o.worker_id = dead.worker_id returning o.queue_job_id, o.job_key
       ), moved as (
         update pgboss.job j set state = 'retry', start_after = now()
         from owned where j.id = owned.queue_job_id and j.name = $2 and j.state = 'active'
         returning owned.job_key
       )
       select job_key from moved`,
      [this.#opts.deadAfterSeconds, JOB_QUEUE],
    );
    if (r.rows.length > 0) {
      this.#log.warn('jobs of a worker that stopped answering handed back to the queue', { jobs: r.rows.map((x) => x.job_key), deadAfterSeconds: this.#opts.deadAfterSeconds });
    }
    return r.rows.length;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tick;
    await this.#pool.query('delete from dfa.workers where worker_id = $1', [this.workerId]).catch(() => undefined);
  }

  async #register(): Promise<void> {
    await this.#pool.query('insert into dfa.workers (worker_id, host, pid) values ($1, $2, $3) on conflict (worker_id) do update set seen_at = now()', [
      this.workerId,
      hostname(),
      process.pid,
    ]);
  }

  #beat(): void {
    if (this.#tick) return; // the last one is still running (a slow database): skip, do not pile up
    this.#tick = (async () => {
      try {
        // Declared dead while alive (paused longer than deadAfterSeconds): register again. Its
        // jobs were handed back; finishing one anyway writes the same outputs (deterministic UIDs,
        // conditional FHIR creates), so nothing is duplicated.
        const r = await this.#pool.query('update dfa.workers set seen_at = now() where worker_id = $1', [this.workerId]);
        if (r.rowCount === 0) await this.#register();
        await this.reclaim();
      } catch (e) {
        this.#log.warn('worker heartbeat failed', { error: e instanceof Error ? e.message : String(e) });
      } finally {
        this.#tick = undefined;
      }
    })();
  }
}
