import { toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { RetrievedInstance } from '../core/ports.ts';
import type { RemoteReceivedStudy } from '../remote/pacs.ts';
import type { StandingGoal } from './standing-goal.ts';

/** The dicom_handler's list of received studies (RemotePacs: GET /received, POST /received/ack). */
export interface ReceivedSource {
  received(after: number, limit: number, signal?: AbortSignal): Promise<{ studies: RemoteReceivedStudy[] }>;
  ackReceived(ids: readonly number[], keep: readonly string[]): Promise<number[]>;
}

export interface ReceivedFeedOptions {
  readonly source: ReceivedSource;
  readonly standing: Pick<StandingGoal, 'handleReceived' | 'finish'>;
  /** How often the list is read (DFA_STANDING_POLL_MS). */
  readonly pollMs: number;
  /** While the dicom_handler does not answer: pollMs doubled up to this (DFA_OUTAGE_PROBE_MAX_MS). */
  readonly pollMaxMs: number;
  /** A study whose handling failed is tried again after this, doubled up to `retryMaxMs`. */
  readonly retryMs: number;
  readonly retryMaxMs: number;
  /** Entries read per call. */
  readonly batch?: number;
  readonly log: Logger;
}

interface Retry {
  readonly study: RemoteReceivedStudy;
  attempts: number;
  dueAt: number;
}

interface Ack {
  readonly study: RemoteReceivedStudy;
  readonly keep: readonly string[];
  readonly inPacs: readonly RetrievedInstance[];
}

/**
 * The standing goal fed from the dicom_handler (`dfa serve` with DFA_DICOM_URL): the gateway's SCP
 * receives the pushes and lists each study once quiet; this reads the list and hands each study to
 * the standing goal as our own SCP would (same forward / register / run, so the same job keys).
 *
 * Nothing received is lost: an entry is acknowledged only after its run has started (and the run is
 * recorded in the inbox store first, so a restart between the two resumes it instead of starting a
 * second); until then the gateway keeps it, and a restart of either side reads it again (the cursor
 * starts at 0 each start: every unacknowledged entry). While the gateway does not answer, the feed
 * logs once and keeps polling with backoff; a study whose handling failed is retried with backoff.
 */
export class ReceivedFeed {
  private readonly o: ReceivedFeedOptions;
  private cursor = 0;
  private readonly retries = new Map<number, Retry>();
  private readonly acks = new Map<number, Ack>();
  private closed = false;
  private loop?: Promise<void>;
  private sleeping?: { timer: NodeJS.Timeout; wake: () => void };
  private readonly abort = new AbortController();
  private down?: string;
  /** Called after each pass over the list (tests follow it). */
  onPass?: () => void;

  constructor(o: ReceivedFeedOptions) {
    this.o = o;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  private async run(): Promise<void> {
    let delay = this.o.pollMs;
    while (!this.closed) {
      let more = false;
      try {
        more = await this.pass();
        if (this.down !== undefined) this.o.log.info('dicom_handler answers again; reading its received studies');
        this.down = undefined;
        delay = this.o.pollMs;
      } catch (e) {
        if (this.closed) break;
        const why = toDfaError(e).message;
        if (this.down === undefined) this.o.log.warn('dicom_handler not answering; received studies wait there, polling with backoff', { error: why });
        this.down = why;
        delay = Math.min(this.o.pollMaxMs, delay * 2);
      }
      this.onPass?.();
      if (!more) await this.sleep(delay);
    }
  }

  /** One pass: acknowledgements still owed, new entries, retries that are due. True when more entries are waiting. */
  private async pass(): Promise<boolean> {
    for (const a of [...this.acks.values()]) await this.acknowledge(a);
    const batch = this.o.batch ?? 50;
    const { studies } = await this.o.source.received(this.cursor, batch, this.abort.signal);
    for (const s of studies) {
      if (this.closed) return false;
      this.cursor = Math.max(this.cursor, s.id);
      if (!this.retries.has(s.id) && !this.acks.has(s.id)) await this.handle(s);
    }
    const now = Date.now();
    for (const r of [...this.retries.values()]) {
      if (this.closed) return false;
      if (r.dueAt <= now) await this.handle(r.study);
    }
    return studies.length === batch;
  }

  private async handle(s: RemoteReceivedStudy): Promise<void> {
    const instances: RetrievedInstance[] = s.instances.map(({ key, ...uids }) => ({ path: key, ...uids }));
    const { trigger, inPacs } = await this.o.standing.handleReceived(s.studyInstanceUid, instances, s.callingAets);
    if (trigger.error !== undefined) {
      const r = this.retries.get(s.id) ?? { study: s, attempts: 0, dueAt: 0 };
      r.attempts++;
      r.dueAt = Date.now() + Math.min(this.o.retryMaxMs, this.o.retryMs * 2 ** (r.attempts - 1));
      this.retries.set(s.id, r);
      return;
    }
    this.retries.delete(s.id);
    const held = new Set(inPacs.map((i) => i.path));
    const a: Ack = { study: s, keep: instances.filter((i) => !held.has(i.path)).map((i) => i.path), inPacs };
    this.acks.set(s.id, a);
    await this.acknowledge(a);
  }

  /** The run has started: tell the gateway (it removes the files the PACS holds), then forget the study here. */
  private async acknowledge(a: Ack): Promise<void> {
    await this.o.source.ackReceived([a.study.id], a.keep);
    this.acks.delete(a.study.id);
    await this.o.standing.finish(a.study.studyInstanceUid, a.inPacs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      this.sleeping = { timer, wake: resolve };
    });
  }

  /** Stop polling; a study being handled finishes first. Unacknowledged entries stay at the gateway. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    await this.loop;
  }
}
