import { randomUUID } from 'node:crypto';
import { DfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { AuditStore, SETTLED } from '../storage/audit.ts';
import type { Database } from '../storage/db.ts';
import { getRun } from '../storage/run-queries.ts';
import type { JobDeps } from '../agent/jobs/deps.ts';
import { planKey, type Plan } from '../agent/plan.ts';
import { dryRun, runPlan } from '../agent/runner.ts';

/**
 * Goal runs started by the API or the standing goal, each in the background of the one `dfa serve`
 * process. The jobs themselves run on the long-lived workers (runPlan with workers: 0 only finds the
 * studies, enqueues one job per study and waits); a run id is chosen first so POST /goals can answer
 * 202 as soon as the run row exists.
 */
interface Summary {
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
}

export class BackgroundRuns {
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopping = false;
  private readonly db: Database;
  private readonly deps: JobDeps;
  private readonly log: Logger;
  /** The database as runPlan sees it: once stopping, its polls fail so a waiting run gives up. */
  private readonly runDb: Database;

  constructor(db: Database, deps: JobDeps, log: Logger) {
    this.db = db;
    this.deps = deps;
    this.log = log;
    const stopped = () => this.stopping;
    const pool = new Proxy(db.pool, {
      get(target, key) {
        if (key === 'query' && stopped()) return () => Promise.reject(new DfaError('DATABASE_ERROR', 'dfa serve is stopping: run no longer followed'));
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    this.runDb = { ...db, pool };
  }

  /** Runs being followed now. */
  get active(): readonly string[] {
    return [...this.inFlight.keys()];
  }

  /** Start a run (a dry run only records what it would process); resolves with its id once the run row exists. */
  async start(plan: Plan, opts: { dryRun: boolean; startedBy?: string }): Promise<{ runId: string }> {
    if (this.stopping) throw new DfaError('SERVICE_UNREACHABLE', 'dfa serve is stopping; no new runs');
    const runId = randomUUID();
    const audit = new AuditStore(this.db.pool);
    if (opts.dryRun) {
      const d = await dryRun(plan, this.deps);
      await audit.startRun({ runId, goal: plan.goal, plan, planKey: planKey(plan), startedBy: opts.startedBy });
      await audit.finishRun(runId, { dryRun: true, studies: d.studies });
      return { runId };
    }
    let failure: unknown;
    this.track(runId, plan.goal, runPlan(plan, this.runDb, this.deps, { workers: 0, runId, startedBy: opts.startedBy }).then((r) => r.summary), (e) => {
      failure = e;
      // A run that failed as a whole (not its jobs) still ends, with why, if its row was written.
      if (!this.stopping) void audit.finishRun(runId, { error: toDfaError(e).message }).catch(() => undefined);
    });
    // Answer once the run row exists (runPlan writes it after finding the studies), or with why not.
    for (;;) {
      if (await getRun(this.db.pool, runId)) return { runId };
      if (failure !== undefined) throw failure;
      if (!this.inFlight.has(runId)) throw new DfaError('INTERNAL', `run ${runId} ended before it was recorded`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Runs an earlier `dfa serve` left unfinished when it stopped (their jobs stayed in the durable
   * queue and the workers take them again): follow each to its end and record its summary. Only for
   * the embedded database, which no other process can be using; on a shared PostgreSQL an
   * unfinished run may belong to a `dfa run` that is still waiting for it.
   */
  resumeUnfinished(runs: readonly { runId: string; goal: string }[]): void {
    for (const r of runs) this.track(r.runId, r.goal, this.follow(r.runId), () => undefined);
  }

  private async follow(runId: string): Promise<Summary> {
    const audit = new AuditStore(this.runDb.pool);
    for (;;) {
      const rows = await audit.listJobs({ runId });
      if (rows.every((r) => SETTLED.includes(r.status))) {
        const count = (s: string) => rows.filter((r) => (r.runAction === 'already-done' ? 'skipped' : r.status) === s).length;
        const summary = { succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped'), review: count('review') };
        await audit.finishRun(runId, summary);
        return summary;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private track(runId: string, goal: string, run: Promise<Summary>, onError: (e: unknown) => void): void {
    const log = this.log.child({ run: runId });
    const settled = run
      .then(
        (summary) => log.info('run finished', { goal, ...summary }),
        (e: unknown) => {
          onError(e);
          if (this.stopping) log.info('run left unfinished (stopping); its queued jobs stay queued for the next start');
          else log.error('run failed', { goal, error: toDfaError(e).message });
        },
      )
      .finally(() => this.inFlight.delete(runId));
    this.inFlight.set(runId, settled);
  }

  /** Stop following runs: their waits end; jobs already queued stay in the durable queue. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.inFlight.values());
  }
}
