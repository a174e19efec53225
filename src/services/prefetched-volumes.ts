import type { Volume } from '../core/volume.ts';

/**
 * Volumes an agent asked the ml_processor to load ahead of its segment call (POST /prefetch), by
 * the job's volume key: the agent loads the study for itself at the same time, so the two loads
 * overlap instead of following each other. The segment call takes its entry (only when it names
 * the same DICOM files) and checks it against the saved header like any reload
 * (src/agent/jobs/volume-artifacts.ts). Few are kept (a volume is ~150 MB) and not for long: a
 * prefetch whose segment call never comes, or goes to another replica, costs memory only a while.
 */
interface Entry {
  readonly files: readonly string[];
  readonly volume: Promise<Volume>;
  readonly at: number;
}

export class PrefetchedVolumes {
  private readonly entries = new Map<string, Entry>();
  private readonly load: (files: readonly string[]) => Promise<Volume>;
  private readonly keep: number;
  private readonly ttlMs: number;

  constructor(load: (files: readonly string[]) => Promise<Volume>, o: { keep?: number; ttlMs?: number } = {}) {
    this.load = load;
    this.keep = o.keep ?? 2;
    this.ttlMs = o.ttlMs ?? 5 * 60_000;
  }

  /** Starts loading (once per key and file list); a failure is kept for `take`, never thrown here. */
  start(key: string, files: readonly string[]): void {
    this.sweep();
    const had = this.entries.get(key);
    if (had && sameList(had.files, files)) return;
    const volume = this.load(files);
    volume.catch(() => undefined); // taken by the segment call, or dropped
    this.entries.set(key, { files: [...files], volume, at: Date.now() });
    while (this.entries.size > this.keep) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** The load started for `key` from exactly these files (and forgets it), or undefined. */
  take(key: string, files: readonly string[]): Promise<Volume> | undefined {
    this.sweep();
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    return sameList(e.files, files) ? e.volume : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const old = Date.now() - this.ttlMs;
    for (const [k, e] of this.entries) if (e.at < old) this.entries.delete(k);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
