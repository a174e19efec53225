import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { ResultsArchive } from '../../storage/archive.ts';
import { AuditStore } from '../../storage/audit.ts';
import { newPool, type Database } from '../../storage/db.ts';
import type { JobDeps } from './deps.ts';
import { executeJob } from './execute.ts';
import { buildJobGraph } from './graph.ts';
import { loadConfig } from '../../core/config.ts';
import { livenessFromConfig, WorkerLiveness, type LivenessOptions } from './liveness.ts';
import { JobQueue, type QueueOptions } from './queue.ts';
import type { RetryTiming } from './retry.ts';
import { listenForWakeUps } from './wake-up.ts';

export interface WorkerOptions {
  /** Jobs this process runs side by side (DFA_CONCURRENCY). */
  readonly concurrency: number;
  readonly retry?: RetryTiming;
  readonly queue?: QueueOptions;
  /** Shared database: heartbeat and dead-worker takeover (liveness.ts). Default: the DFA_WORKER_* defaults. */
  readonly liveness?: LivenessOptions;
}

export interface Workers {
  /** Jobs were queued: start on them now rather than at the next poll. */
  notify(): void;
  stop(): Promise<void>;
}

/** LangGraph's Postgres checkpointer on the shared database (its own tables, created once). */
export async function openCheckpointer(url: string, max = 4): Promise<{ saver: PostgresSaver; close(): Promise<void> }> {
  const pool = newPool(url, max);
  const saver = new PostgresSaver(pool);
  const lock = await pool.connect();
  try {
    // Several workers starting at once against one PostgreSQL: one runs the migrations.
    await lock.query('select pg_advisory_lock(4242002)');
    await saver.setup();
  } finally {
    await lock.query('select pg_advisory_unlock(4242002)').catch(() => undefined);
    lock.release();
  }
  return { saver, close: () => pool.end() };
}

/**
 * Start job workers in this process: take jobs from the shared queue and run each through the
 * job graph with the Postgres checkpointer. `dfa worker` runs only this; `dfa run` runs it too.
 */
export async function startWorkers(db: Database, deps: JobDeps, opts: WorkerOptions): Promise<Workers> {
  const audit = new AuditStore(db.pool);
  const cp = await openCheckpointer(db.url, opts.concurrency + 1);
  const graph = buildJobGraph({ deps, audit, archive: new ResultsArchive(deps.artifacts, db.pool) }, { checkpointer: cp.saver, retry: opts.retry });
  const queue = await JobQueue.open(db.url, opts.queue);
  if (db.embedded) {
    const n = await queue.recoverOrphans();
    if (n > 0) deps.log.info('resuming jobs left by a process that stopped', { jobs: n });
  }
  // Shared database: other processes must learn when this one dies (liveness.ts).
  const liveness = db.embedded ? undefined : await WorkerLiveness.start(db.pool, opts.liveness ?? livenessFromConfig(loadConfig({})), deps.log);
  await queue.work(opts.concurrency, async (m, queueJobId) => {
    const log = deps.log.child({ job: m.jobKey });
    log.debug('job taken');
    await liveness?.own(queueJobId, m.jobKey);
    try {
      const row = await executeJob(graph, audit, m);
      if (row) log.info(`job ${row.status}`, { step: row.step, reason: row.reason ?? undefined });
    } finally {
      await liveness?.disown(queueJobId).catch(() => undefined);
    }
  });
  // Shared database: a runner in another process NOTIFYs when it queued jobs (see wake-up.ts).
  const wake = db.embedded ? undefined : await listenForWakeUps(db.url, () => queue.notify(), deps.log);
  return {
    notify: () => queue.notify(),
    stop: async () => {
      await wake?.close();
      await queue.stop();
      await liveness?.stop();
      await cp.close();
    },
  };
}
