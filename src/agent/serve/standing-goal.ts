import { toDfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { RetrievedInstance, StoreOutcome } from '../../core/ports.ts';
import type { Plan } from '../plan.ts';

/** The standing goal narrowed to one pushed study (PS3.3 C.7.2.1 StudyInstanceUID). */
export function planForStudy(plan: Plan, studyInstanceUid: string): Plan {
  return { ...plan, selection: { ...plan.selection, studyInstanceUids: [studyInstanceUid] } };
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
  readonly log: Logger;
}

/** What happened to one pushed study (newest last), for logs and tests. */
export interface Trigger {
  readonly studyInstanceUid: string;
  readonly instances: number;
  readonly forwarded: number;
  readonly runId?: string;
  readonly error?: string;
}

interface Pending {
  readonly files: string[];
  readonly callers: Set<string>;
  timer?: NodeJS.Timeout;
}

/**
 * A standing goal, like a routing rule in a PACS router: each study pushed to our SCP becomes a
 * goal run for that study once it has been quiet for `quietMs` (C-STORE has no "study complete"
 * message, PS3.4 B.2; a sender may use several associations, so quiet time is the signal).
 * The agent retrieves from the PACS and finds work in FHIR, so a pushed study is first forwarded to
 * the PACS (unless the PACS itself sent it) and, if asked, registered in FHIR.
 */
export class StandingGoal {
  private readonly pending = new Map<string, Pending>();
  private readonly working = new Set<Promise<void>>();
  private closed = false;
  private readonly opts: StandingGoalOptions;
  readonly triggers: Trigger[] = [];
  /** Called after each trigger has been handled (tests and the dashboard follow it). */
  onTrigger?: (t: Trigger) => void;

  constructor(opts: StandingGoalOptions) {
    this.opts = opts;
  }

  /** One instance arrived in our SCP's inbox. */
  received(r: RetrievedInstance, from: { readonly callingAet: string }): void {
    if (this.closed) return;
    const uid = r.studyInstanceUid;
    const p = this.pending.get(uid);
    if (p) clearTimeout(p.timer);
    const entry: Pending = p ?? { files: [], callers: new Set() };
    entry.files.push(r.path);
    entry.callers.add(from.callingAet);
    entry.timer = setTimeout(() => this.fire(uid), this.opts.quietMs);
    this.pending.set(uid, entry);
  }

  private fire(uid: string): void {
    const p = this.pending.get(uid);
    if (!p) return;
    this.pending.delete(uid);
    const w = this.handle(uid, p).finally(() => this.working.delete(w));
    this.working.add(w);
  }

  private async handle(uid: string, p: Pending): Promise<void> {
    const o = this.opts;
    const log = o.log.child({ study: uid });
    let forwarded = 0;
    let t: Trigger;
    // Files the PACS now holds: all of them when the PACS itself pushed them, else those it accepted.
    let inPacs: readonly string[] = p.files;
    try {
      const fromPacs = o.pacsAet !== undefined && [...p.callers].every((c) => c === o.pacsAet);
      if (!fromPacs) {
        const outcomes = await o.forward(p.files);
        forwarded = outcomes.filter((x) => x.ok).length;
        inPacs = p.files.filter((_, i) => outcomes[i]?.ok === true);
        const refused = outcomes.filter((x) => !x.ok);
        if (refused.length > 0) log.warn('PACS refused some pushed instances', { refused: refused.length, first: refused[0]?.reason });
        if (forwarded === 0) throw new Error(`the PACS accepted none of the ${p.files.length} pushed instance(s)`);
      }
      if (o.register) await o.register(uid);
      const { runId } = await o.startRun(planForStudy(o.plan, uid));
      log.info('standing goal run started', { runId, instances: p.files.length, forwarded });
      t = { studyInstanceUid: uid, instances: p.files.length, forwarded, runId };
      if (o.discard && inPacs.length > 0) {
        await o.discard(inPacs).catch((e: unknown) => log.warn('could not remove handled files from the inbox', { error: toDfaError(e).message }));
      }
    } catch (e) {
      const error = toDfaError(e).message;
      log.error('standing goal not started for pushed study', { error });
      t = { studyInstanceUid: uid, instances: p.files.length, forwarded, error };
    }
    this.triggers.push(t);
    this.onTrigger?.(t);
  }

  /** Stop: studies still in their quiet time are dropped (their files stay in the inbox); triggers under way finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [uid, p] of this.pending) {
      clearTimeout(p.timer);
      this.opts.log.warn('pushed study not handled (stopping during its quiet time)', { study: uid, instances: p.files.length });
    }
    this.pending.clear();
    await Promise.all(this.working);
  }
}
