import { toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { RetrievedInstance, StoreOutcome } from '../core/ports.ts';
import type { Plan } from '../agent/plan.ts';

/** The standing goal narrowed to one pushed study (PS3.3 C.7.2.1 StudyInstanceUID). */
export function planForStudy(plan: Plan, studyInstanceUid: string): Plan {
  return { ...plan, selection: { ...plan.selection, studyInstanceUids: [studyInstanceUid] } };
}

/**
 * Where the standing goal keeps what must survive a crash (src/storage/inbox-store.ts on the
 * database): per study, the failed attempts, the instances the PACS acknowledged and the run started.
 */
export interface StandingStore {
  noted(studyInstanceUid: string): Promise<void>;
  state(studyInstanceUid: string): Promise<{ readonly attempts: number; readonly runId?: string; readonly forwarded: ReadonlySet<string> } | undefined>;
  forwarded(studyInstanceUid: string, sopInstanceUids: readonly string[]): Promise<void>;
  /** Returns the number of failed attempts so far. */
  failed(studyInstanceUid: string, error: string, nextAt: Date): Promise<number>;
  started(studyInstanceUid: string, runId: string): Promise<void>;
  done(studyInstanceUid: string, sopInstanceUids: readonly string[]): Promise<void>;
}

export interface StandingGoalOptions {
  /** The standing goal, planned and validated at start-up. */
  readonly plan: Plan;
  /** A study counts as complete once no instance of it has arrived for this long. */
  readonly quietMs: number;
  /** Pushes from this AE are notifications: the PACS already holds the study, nothing to forward. */
  readonly pacsAet?: string;
  /** Store the received files in the PACS the agent retrieves from. */
  readonly forward: (files: readonly string[]) => Promise<readonly StoreOutcome[]>;
  /** Register the study in FHIR (the agent's work list) before the run; unset ⇒ it must be registered already. */
  readonly register?: (studyInstanceUid: string) => Promise<unknown>;
  readonly startRun: (plan: Plan) => Promise<{ runId: string }>;
  /**
   * Remove inbox files once the PACS holds them and the run has started (the agent retrieves from
   * the PACS, not from the inbox). Files the PACS refused, or of a study whose run did not start,
   * are never passed here: they stay in the inbox, the only copy.
   */
  readonly discard?: (files: readonly string[]) => Promise<void>;
  /** Persistence across restarts; unset ⇒ in memory only (tests). */
  readonly store?: StandingStore;
  /** A study whose handling failed is tried again after this long, doubled each time up to `retryMaxMs`. */
  readonly retryMs?: number;
  readonly retryMaxMs?: number;
  /** Instances forwarded per association; each batch's acknowledgements are recorded before the next. */
  readonly forwardBatch?: number;
  readonly log: Logger;
}

/** What happened to one pushed study (newest last), for logs and tests. */
export interface Trigger {
  readonly studyInstanceUid: string;
  readonly instances: number;
  readonly forwarded: number;
  /** Instances the PACS had acknowledged before a restart: not sent again. */
  readonly alreadyForwarded?: number;
  readonly runId?: string;
  /** The run had started before a restart: not started again. */
  readonly resumed?: boolean;
  readonly error?: string;
  /** After an error: the next attempt is due in this many ms. */
  readonly retryInMs?: number;
}

interface Pending {
  readonly instances: Map<string, RetrievedInstance>; // by path
  readonly callers: Set<string>;
  timer?: NodeJS.Timeout;
  noted?: Promise<void>;
}

/**
 * A standing goal, like a routing rule in a PACS router: each study pushed to our SCP becomes a
 * goal run for that study once it has been quiet for `quietMs` (C-STORE has no "study complete"
 * message, PS3.4 B.2; a sender may use several associations, so quiet time is the signal).
 * The agent retrieves from the PACS and finds work in FHIR, so a pushed study is first forwarded to
 * the PACS (unless the PACS itself sent it) and, if asked, registered in FHIR.
 *
 * Nothing received is lost: the inbox files stay until the PACS holds them and the run has
 * started; a failure is retried with backoff; with a `store`, a restart (the inbox rescanned, see
 * inbox-rescan.ts) forwards only what the PACS had not acknowledged and never starts a run twice.
 */
export class StandingGoal {
  private readonly pending = new Map<string, Pending>();
  private readonly working = new Set<Promise<void>>();
  private readonly attempts = new Map<string, number>();
  private closed = false;
  private readonly opts: StandingGoalOptions;
  readonly triggers: Trigger[] = [];
  /** Called after each trigger has been handled (tests and the dashboard follow it). */
  onTrigger?: (t: Trigger) => void;

  constructor(opts: StandingGoalOptions) {
    this.opts = opts;
  }

  /** One instance arrived in our SCP's inbox (or was found there at start-up). */
  received(r: RetrievedInstance, from: { readonly callingAet: string }): void {
    if (this.closed) return;
    const uid = r.studyInstanceUid;
    const entry = this.entry(uid);
    clearTimeout(entry.timer);
    entry.instances.set(r.path, r);
    entry.callers.add(from.callingAet);
    entry.timer = setTimeout(() => this.fire(uid), this.opts.quietMs);
  }

  /** Studies waiting for their quiet time or their next attempt. */
  get waiting(): number {
    return this.pending.size;
  }

  private entry(uid: string): Pending {
    let p = this.pending.get(uid);
    if (!p) {
      p = { instances: new Map(), callers: new Set() };
      const store = this.opts.store;
      if (store) {
        p.noted = store.noted(uid).catch((e: unknown) => this.opts.log.warn('could not record a pushed study', { study: uid, error: toDfaError(e).message }));
      }
      this.pending.set(uid, p);
    }
    return p;
  }

  private fire(uid: string): void {
    const p = this.pending.get(uid);
    if (!p) return;
    this.pending.delete(uid);
    const w = this.handle(uid, p).finally(() => this.working.delete(w));
    this.working.add(w);
  }

  private async handle(uid: string, p: Pending): Promise<void> {
    await p.noted;
    const { trigger, inPacs } = await this.attempt(uid, [...p.instances.values()], p.callers);
    let t = trigger;
    if (t.error === undefined) {
      await this.finish(uid, inPacs);
    } else {
      const retryInMs = await this.retryLater(uid, p, t.error);
      this.opts.log.error('standing goal not started for pushed study; will try again', { study: uid, error: t.error, retryInMs });
      t = { ...t, retryInMs };
    }
    this.triggers.push(t);
    this.onTrigger?.(t);
  }

  /**
   * One study received elsewhere (the dicom_handler's list, see received-feed.ts), complete
   * already: forwarded and run now, as a quiet study of our own SCP would be. Nothing is retried or
   * forgotten here: on success the caller acknowledges the study upstream and then calls `finish`;
   * on an error (the trigger's `error`) it tries again later. A run already started for the study
   * (recorded before a crash) is not started again.
   */
  async handleReceived(uid: string, instances: readonly RetrievedInstance[], callers: readonly string[]): Promise<{ trigger: Trigger; inPacs: RetrievedInstance[] }> {
    await this.opts.store?.noted(uid).catch((e: unknown) => this.opts.log.warn('could not record a pushed study', { study: uid, error: toDfaError(e).message }));
    const r = await this.attempt(uid, instances, new Set(callers));
    if (r.trigger.error !== undefined) {
      const n = await this.opts.store?.failed(uid, r.trigger.error, new Date()).catch(() => undefined);
      this.opts.log.error('standing goal not started for received study; will try again', { study: uid, error: r.trigger.error, attempts: n });
    }
    this.triggers.push(r.trigger);
    this.onTrigger?.(r.trigger);
    return r;
  }

  /** The run has started and what the PACS holds may go: remove it from the inbox, forget the study. */
  async finish(uid: string, inPacs: readonly RetrievedInstance[]): Promise<void> {
    const o = this.opts;
    const log = o.log.child({ study: uid });
    if (o.discard && inPacs.length > 0) {
      await o.discard(inPacs.map((i) => i.path)).catch((e: unknown) => log.warn('could not remove handled files from the inbox', { error: toDfaError(e).message }));
    }
    await o.store?.done(uid, inPacs.map((i) => i.sopInstanceUid)).catch((e: unknown) => log.warn('could not record a handled study', { error: toDfaError(e).message }));
  }

  /** Forward what the PACS lacks, register, start the run (unless started before): never throws. */
  private async attempt(uid: string, all: readonly RetrievedInstance[], callers: ReadonlySet<string>): Promise<{ trigger: Trigger; inPacs: RetrievedInstance[] }> {
    const o = this.opts;
    const log = o.log.child({ study: uid });
    let forwarded = 0;
    let already = 0;
    try {
      const st = await o.store?.state(uid);
      const acked = new Set(st?.forwarded ?? []);
      already = all.filter((i) => acked.has(i.sopInstanceUid)).length;
      // Files the PACS now holds: all of them when the PACS itself pushed them, else those it acknowledged.
      const fromPacs = o.pacsAet !== undefined && callers.size > 0 && [...callers].every((c) => c === o.pacsAet);
      if (!fromPacs) {
        const todo = all.filter((i) => !acked.has(i.sopInstanceUid));
        if (todo.length > 0) log.info('forwarding pushed study to the PACS', { instances: todo.length, alreadyForwarded: already });
        const batch = Math.max(1, o.forwardBatch ?? 16);
        let refused = 0;
        let firstRefusal: string | undefined;
        for (let i = 0; i < todo.length; i += batch) {
          const chunk = todo.slice(i, i + batch);
          const outcomes = await o.forward(chunk.map((x) => x.path));
          const ok = chunk.filter((_, k) => outcomes[k]?.ok === true);
          await o.store?.forwarded(uid, ok.map((x) => x.sopInstanceUid));
          for (const x of ok) acked.add(x.sopInstanceUid);
          forwarded += ok.length;
          const bad = outcomes.filter((x) => !x.ok);
          refused += bad.length;
          firstRefusal ??= bad[0]?.reason;
        }
        if (refused > 0) log.warn('PACS refused some pushed instances', { refused, first: firstRefusal });
        if (forwarded + already === 0) throw new Error(`the PACS accepted none of the ${all.length} pushed instance(s)`);
      }
      const inPacs = fromPacs ? [...all] : all.filter((i) => acked.has(i.sopInstanceUid));
      let runId = st?.runId;
      const resumed = runId !== undefined;
      if (runId === undefined) {
        if (o.register) await o.register(uid);
        runId = (await o.startRun(planForStudy(o.plan, uid))).runId;
        await o.store?.started(uid, runId);
        log.info('standing goal run started', { runId, instances: all.length, forwarded, alreadyForwarded: already });
      } else {
        log.info('standing goal run had started before a restart; not started again', { runId });
      }
      this.attempts.delete(uid);
      const trigger: Trigger = { studyInstanceUid: uid, instances: all.length, forwarded, ...(already > 0 ? { alreadyForwarded: already } : {}), runId, ...(resumed ? { resumed } : {}) };
      return { trigger, inPacs };
    } catch (e) {
      const error = toDfaError(e).message;
      return { trigger: { studyInstanceUid: uid, instances: all.length, forwarded, ...(already > 0 ? { alreadyForwarded: already } : {}), error }, inPacs: [] };
    }
  }

  /** Keep the study's files pending and fire again after a backoff (doubled per failure, capped). */
  private async retryLater(uid: string, p: Pending, error: string): Promise<number> {
    const base = this.opts.retryMs ?? 5000;
    const max = this.opts.retryMaxMs ?? 300_000;
    let n = (this.attempts.get(uid) ?? 0) + 1;
    const guess = Math.min(max, base * 2 ** (n - 1));
    const stored = await this.opts.store?.failed(uid, error, new Date(Date.now() + guess)).catch(() => undefined);
    if (stored !== undefined) n = stored;
    this.attempts.set(uid, n);
    const delay = Math.min(max, base * 2 ** (n - 1));
    if (this.closed) return delay;
    const again = this.pending.get(uid);
    if (again) {
      // More of the study arrived meanwhile: one entry, fired by its own quiet timer.
      for (const [k, v] of p.instances) again.instances.set(k, v);
      for (const c of p.callers) again.callers.add(c);
    } else {
      const e: Pending = { instances: new Map(p.instances), callers: new Set(p.callers) };
      e.timer = setTimeout(() => this.fire(uid), delay);
      this.pending.set(uid, e);
    }
    return delay;
  }

  /** Stop: studies still in their quiet time are dropped (their files stay in the inbox); triggers under way finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [uid, p] of this.pending) {
      clearTimeout(p.timer);
      this.opts.log.warn('pushed study not handled yet (stopping); its files stay in the inbox', { study: uid, instances: p.instances.size });
    }
    this.pending.clear();
    await Promise.all(this.working);
  }
}
