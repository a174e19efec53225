import { DfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';

/**
 * A circuit breaker per upstream (issue 10 §5): hospitals restart PACS and FHIR servers in
 * maintenance windows, and a job must not spend its retries on a server that is simply down.
 *
 * After a step's transient fault the job asks `isDown` for the upstreams that step uses: one probe
 * (C-ECHO, FHIR `/metadata`, a cheap QIDO) answers it. A server that answers the probe is up, so
 * the fault was the job's own and counts as a retry; one that does not opens its breaker. While a
 * breaker is open, a background loop probes with backoff (`probeMs` doubled up to `probeMaxMs`) and
 * every job that needs that upstream waits (`waitUp`) instead of calling it; when a probe answers,
 * they all go on. Only once the outage has lasted `waitMs` (DFA_OUTAGE_WAIT) do waiting jobs fail,
 * with that reason. State is per process: each worker process probes for itself.
 */
export const UPSTREAMS = ['pacs', 'dicomweb', 'fhir'] as const;
export type Upstream = (typeof UPSTREAMS)[number];
export const UPSTREAM_NAME: Record<Upstream, string> = { pacs: 'PACS', dicomweb: 'DICOMweb', fhir: 'FHIR' };

/** Resolves when the upstream answered (any answer but "unreachable"); rejects when it did not. */
export type Probe = (signal: AbortSignal) => Promise<unknown>;

export interface OutageOptions {
  /** How long an outage may last before the jobs waiting on it fail (DFA_OUTAGE_WAIT). */
  readonly waitMs: number;
  readonly probeMs: number;
  readonly probeMaxMs: number;
  readonly probeTimeoutMs: number;
  readonly log: Logger;
}

export interface OutageState {
  readonly upstream: Upstream;
  readonly name: string;
  readonly since: Date;
  readonly probes: number;
  readonly lastError?: string;
}

/** "waiting for PACS since 2026-12-01T10:02:03.000Z" (the run and the dashboard show this). */
export function waitingText(s: Pick<OutageState, 'name' | 'since'>): string {
  return `waiting for ${s.name} since ${s.since.toISOString()}`;
}

class Breaker {
  readonly upstream: Upstream;
  private readonly probe: Probe;
  private readonly opts: OutageOptions;
  private open?: { since: Date; probes: number; lastError?: string; up: Promise<void>; release: () => void; timer?: NodeJS.Timeout };
  private checking?: Promise<boolean>;
  private stopped = false;

  constructor(upstream: Upstream, probe: Probe, opts: OutageOptions) {
    this.upstream = upstream;
    this.probe = probe;
    this.opts = opts;
  }

  get state(): OutageState | undefined {
    const o = this.open;
    return o ? { upstream: this.upstream, name: UPSTREAM_NAME[this.upstream], since: o.since, probes: o.probes, ...(o.lastError ? { lastError: o.lastError } : {}) } : undefined;
  }

  /** Down now? Open: yes. Closed: one probe (shared by concurrent callers) decides. */
  isDown(): Promise<boolean> {
    if (this.open) return Promise.resolve(true);
    this.checking ??= this.tryProbe().then((err) => {
      this.checking = undefined;
      if (err === undefined) return false;
      this.trip(err);
      return true;
    });
    return this.checking;
  }

  /** Resolves when the upstream answers again; rejects once the outage has lasted `waitMs`. */
  async waitUp(): Promise<void> {
    const o = this.open;
    if (!o) return;
    const left = o.since.getTime() + this.opts.waitMs - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), Math.max(0, left))));
    try {
      if ((await Promise.race([o.up.then(() => 'up' as const), gaveUp])) === 'timeout') {
        const mins = Math.round(this.opts.waitMs / 6000) / 10;
        throw new DfaError('SERVICE_UNREACHABLE', `${waitingText(this.state ?? { name: UPSTREAM_NAME[this.upstream], since: o.since })}: no answer within DFA_OUTAGE_WAIT (${mins} min)${o.lastError ? `; last probe: ${o.lastError}` : ''}`, {
          details: { upstream: this.upstream, since: o.since.toISOString(), waitMs: this.opts.waitMs },
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private trip(err: string): void {
    if (this.open || this.stopped) return;
    let release = () => undefined as void;
    const up = new Promise<void>((r) => (release = r));
    this.open = { since: new Date(), probes: 1, lastError: err, up, release };
    this.opts.log.warn(`${UPSTREAM_NAME[this.upstream]} unreachable: jobs that need it wait, probing until it answers`, { upstream: this.upstream, error: err, waitMs: this.opts.waitMs });
    this.schedule(this.opts.probeMs);
  }

  private schedule(delay: number): void {
    const o = this.open;
    if (!o || this.stopped) return;
    o.timer = setTimeout(() => {
      void this.tryProbe().then((err) => {
        if (this.open !== o) return;
        o.probes++;
        if (err === undefined) {
          this.open = undefined;
          this.opts.log.info(`${UPSTREAM_NAME[this.upstream]} answers again: waiting jobs resume`, { upstream: this.upstream, downMs: Date.now() - o.since.getTime(), probes: o.probes });
          o.release();
        } else {
          o.lastError = err;
          this.schedule(Math.min(this.opts.probeMaxMs, delay * 2));
        }
      });
    }, delay);
  }

  /** undefined when the probe answered, else why not. */
  private async tryProbe(): Promise<string | undefined> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error(`no answer within ${this.opts.probeTimeoutMs} ms`)), this.opts.probeTimeoutMs);
    try {
      await Promise.race([
        this.probe(ac.signal),
        new Promise<never>((_, rej) => ac.signal.addEventListener('abort', () => rej(ac.signal.reason as Error), { once: true })),
      ]);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(t);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.open?.timer);
  }
}

export class OutageGuard {
  private readonly breakers = new Map<Upstream, Breaker>();
  /** DFA_OUTAGE_WAIT in ms. */
  readonly waitMs: number;

  constructor(probes: Partial<Record<Upstream, Probe>>, opts: OutageOptions) {
    this.waitMs = opts.waitMs;
    for (const u of UPSTREAMS) {
      const p = probes[u];
      if (p) this.breakers.set(u, new Breaker(u, p, opts));
    }
  }

  /** Upstreams with a probe among `of`. */
  watched(of: readonly Upstream[]): Upstream[] {
    return of.filter((u) => this.breakers.has(u));
  }

  /** Outages now (for the API, the dashboard and the run's jobs). */
  outages(): OutageState[] {
    return [...this.breakers.values()].flatMap((b) => (b.state ? [b.state] : []));
  }

  /** Those of `of` that are down (each probed once unless its breaker is already open). */
  async down(of: readonly Upstream[]): Promise<Upstream[]> {
    const res = await Promise.all(this.watched(of).map(async (u) => ((await this.breakers.get(u)!.isDown()) ? u : undefined)));
    return res.filter((u) => u !== undefined);
  }

  /** Those of `of` whose breaker is open now, without probing. */
  open(of: readonly Upstream[]): OutageState[] {
    return this.watched(of).flatMap((u) => {
      const s = this.breakers.get(u)!.state;
      return s ? [s] : [];
    });
  }

  /** Wait until every one of `of` answers; rejects (SERVICE_UNREACHABLE) once one's outage has lasted DFA_OUTAGE_WAIT. */
  async waitUp(of: readonly Upstream[]): Promise<void> {
    for (const u of this.watched(of)) await this.breakers.get(u)!.waitUp();
  }

  close(): void {
    for (const b of this.breakers.values()) b.stop();
  }
}
