import { randomBytes } from 'node:crypto';

/**
 * Paging over a snapshot: the first page of a search records the matching ids, and its `next`
 * links carry a cursor into that list. Offset paging over a live result set skips matches when
 * earlier ones stop matching between pages (a study leaving `registered` while the worklist is
 * paged); a snapshot never skips, at the cost of entries that may since have changed (FHIR R4
 * §3.1.1.5.6 allows either). Snapshots expire after `ttlMs`.
 */
export class SearchSnapshots {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #snaps = new Map<string, { ids: readonly string[]; expires: number }>();

  constructor(opts: { ttlMs?: number; max?: number } = {}) {
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#max = opts.max ?? 1000;
  }

  create(ids: readonly string[]): string {
    const now = Date.now();
    for (const [k, v] of this.#snaps) if (v.expires < now) this.#snaps.delete(k);
    while (this.#snaps.size >= this.#max) {
      const oldest = this.#snaps.keys().next().value;
      if (oldest === undefined) break;
      this.#snaps.delete(oldest);
    }
    const cursor = randomBytes(12).toString('base64url');
    this.#snaps.set(cursor, { ids, expires: now + this.#ttlMs });
    return cursor;
  }

  get(cursor: string): readonly string[] | undefined {
    const s = this.#snaps.get(cursor);
    if (!s || s.expires < Date.now()) return undefined;
    return s.ids;
  }
}
