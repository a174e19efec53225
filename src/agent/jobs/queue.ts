import PgBoss from 'pg-boss';
import { DfaError } from '../../core/errors.ts';
import type { SqlExecutor } from '../../storage/audit.ts';
import type { JobMessage } from './execute.ts';
import { threadId } from './execute.ts';

/**
 * The distributed job queue: pg-boss on the shared PostgreSQL (SKIP LOCKED fetch, retries with
 * backoff, expiry of jobs whose worker died). One message per job generation; the `stately` policy
 * with singletonKey = job#generation keeps at most one queued and one active copy of it.
 */
export const JOB_QUEUE = 'dfa-study-job';

export interface QueueOptions {
  /** A job active longer than this is taken as lost (worker died) and retried. Default 30 min. */
  readonly expireInSeconds?: number;
  /** Queue-level retries (a worker crash, the database gone); step faults retry inside the graph. */
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  readonly pollingIntervalSeconds?: number;
  readonly maintenanceIntervalSeconds?: number;
}

/**
 * Create our queue unless it exists. Workers starting together on a fresh database race here:
 * pg-boss's createQueue is not serialised, so one of two concurrent creates can die in a deadlock
 * (40P01) or on the unique name (23505) while the other succeeds: look again and go on.
 */
async function ensureQueue(boss: PgBoss, opts: QueueOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(JOB_QUEUE)) return;
    try {
      await boss.createQueue(JOB_QUEUE, {
        name: JOB_QUEUE,
        policy: 'stately',
        retryLimit: opts.retryLimit ?? 3,
        retryDelay: opts.retryDelaySeconds ?? 5,
        retryBackoff: true,
        expireInSeconds: opts.expireInSeconds ?? 1800,
      });
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== '40P01' && code !== '23505') || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

export class JobQueue {
  private readonly boss: PgBoss;
  private readonly opts: QueueOptions;
  private readonly workerIds: string[] = [];

  private constructor(boss: PgBoss, opts: QueueOptions) {
    this.boss = boss;
    this.opts = opts;
  }

  static async open(url: string, opts: QueueOptions = {}): Promise<JobQueue> {
    const boss = new PgBoss({
      connectionString: url,
      max: 4,
      schedule: false,
      maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 60,
    });
    boss.on('error', () => undefined); // pg-boss reports background faults here; they retry on their own
    try {
      await boss.start();
      await ensureQueue(boss, opts);
    } catch (e) {
      await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      throw new DfaError('DATABASE_ERROR', `job queue: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return new JobQueue(boss, opts);
  }

  /** `tx`: send inside the caller's transaction (see AuditStore.claimJob). */
  async enqueue(m: JobMessage, tx?: SqlExecutor): Promise<void> {
    await this.boss.send(JOB_QUEUE, { ...m }, {
      ...(tx ? { db: tx as PgBoss.Db } : {}),
      singletonKey: threadId(m),
      retryLimit: this.opts.retryLimit ?? 3,
      retryDelay: this.opts.retryDelaySeconds ?? 5,
      retryBackoff: true,
      expireInSeconds: this.opts.expireInSeconds ?? 1800,
    });
  }

  /** `concurrency` fetch loops in this process, one job each at a time (DFA_CONCURRENCY). */
  async work(concurrency: number, handler: (m: JobMessage, queueJobId: string) => Promise<void>): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      // Filled in when work() returns; the handler may in principle run before that.
      const me = { id: '' };
      me.id = await this.boss.work<JobMessage>(
        JOB_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 1 },
        async (jobs) => {
          for (const j of jobs) await handler(j.data, j.id);
          // Look for the next job at once rather than after the rest of the polling interval.
          if (jobs.length > 0 && me.id) this.boss.notifyWorker(me.id);
        },
      );
      this.workerIds.push(me.id);
    }
  }

  /** Wake this process's fetch loops now (jobs were just queued) instead of at their next poll. */
  notify(): void {
    for (const id of this.workerIds) this.boss.notifyWorker(id);
  }

  /**
   * Embedded database only: it serves one process, so a job still `active` when that process
   * starts was left by a process that died (kill -9). Hand it back now instead of waiting for expiry.
   */
  async recoverOrphans(): Promise<number> {
    const r = await this.boss.getDb().executeSql(
      `update pgboss.job set state = 'retry', start_after = now() where name = $1 and state = 'active'`,
      [JOB_QUEUE],
    );
    return (r as { rowCount?: number }).rowCount ?? 0;
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
