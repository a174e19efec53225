/**
 * An index for the searches the agent makes on every job, so the embedded dev server answers them
 * without scanning every resource of the type: Medplum's MemoryRepository evaluates each search
 * parameter's FHIRPath on every stored resource, which made one conditional create cost ~7 ms with
 * a few hundred Observations and grow with every job (idempotency keys: FHIR R4 3.1.0.8.1
 * conditional create, `If-None-Exist: identifier=system|value`).
 *
 * The index only narrows: it returns a SUPERSET of the matches (keys are case-folded, a value
 * without a system matches any system) and the caller still runs the full matcher on each
 * candidate, so results are exactly the unindexed ones. Indexed: `identifier` (token, every
 * resource type) and `target` (reference, Provenance: the key the agent's Provenance create uses).
 */
import type { Filter, SearchRequest } from '@medplum/core';
import type { Identifier, Reference, Resource } from '@medplum/fhirtypes';

const ANY_SYSTEM = '\u0000any';

function identifierKeys(resourceType: string, ids: readonly Identifier[] | undefined): string[] {
  const out: string[] = [];
  for (const i of ids ?? []) {
    if (i.value === undefined) continue;
    const v = i.value.toLowerCase();
    out.push(`${resourceType}|identifier|${ANY_SYSTEM}|${v}`, `${resourceType}|identifier|${(i.system ?? '').toLowerCase()}|${v}`);
  }
  return out;
}

/** "Type/id" from a relative, absolute or versioned reference (…/Type/id/_history/n). */
function referenceTail(ref: string): string | undefined {
  const parts = ref.replace(/\/_history\/[^/]+$/, '').split('/');
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : undefined;
}

function referenceKeys(resourceType: string, code: string, refs: readonly Reference[] | undefined): string[] {
  const out: string[] = [];
  for (const r of refs ?? []) {
    const tail = r.reference ? referenceTail(r.reference) : undefined;
    if (tail) out.push(`${resourceType}|${code}|${tail.toLowerCase()}`);
  }
  return out;
}

function keysOf(r: Resource): string[] {
  const keys = identifierKeys(r.resourceType, (r as { identifier?: Identifier[] }).identifier);
  if (r.resourceType === 'Provenance') keys.push(...referenceKeys('Provenance', 'target', r.target));
  return keys;
}

/** The keys that can hold the matches of one filter; undefined when the filter is not indexed. */
function lookupKeys(resourceType: string, f: Filter): string[] | undefined {
  // Escaped separators (\| \, \$) are left to the full scan.
  if (f.operator !== 'eq' || f.value.includes('\\')) return undefined;
  if (f.code === 'identifier') {
    // FHIR R4 3.1.1.5.5 token: [system]|[code], |[code] (no system) or [code] (any system); commas are OR.
    return f.value.split(',').map((v) => {
      const bar = v.indexOf('|');
      const value = (bar === -1 ? v : v.slice(bar + 1)).toLowerCase();
      const system = bar <= 0 ? ANY_SYSTEM : v.slice(0, bar).toLowerCase();
      return `${resourceType}|identifier|${system}|${value}`;
    });
  }
  if (f.code === 'target' && resourceType === 'Provenance') {
    const keys: string[] = [];
    for (const v of f.value.split(',')) {
      const tail = referenceTail(v);
      if (!tail) return undefined; // a bare id (target=abc): not indexed, scan
      keys.push(`Provenance|target|${tail.toLowerCase()}`);
    }
    return keys;
  }
  return undefined;
}

export class SearchIndex {
  /** key → ids of the resources (of the key's type) that have it. */
  readonly #ids = new Map<string, Set<string>>();
  /** "Type/id" → the keys its current version was indexed under. */
  readonly #keysOf = new Map<string, string[]>();
  /** "Type/id" → when it was first stored: candidates come back in MemoryRepository's scan order. */
  readonly #order = new Map<string, number>();
  #next = 0;

  /** After every write of a version: replaces what the previous version was indexed under. */
  put(r: Resource & { id: string }): void {
    const ref = `${r.resourceType}/${r.id}`;
    const seq = this.#order.get(ref) ?? this.#next++;
    this.remove(r.resourceType, r.id);
    this.#order.set(ref, seq); // an update keeps its place (Map.set on an existing key does)
    const keys = keysOf(r);
    for (const k of keys) {
      let s = this.#ids.get(k);
      if (!s) this.#ids.set(k, (s = new Set()));
      s.add(r.id);
    }
    this.#keysOf.set(`${r.resourceType}/${r.id}`, keys);
  }

  remove(resourceType: string, id: string): void {
    const ref = `${resourceType}/${id}`;
    for (const k of this.#keysOf.get(ref) ?? []) {
      const s = this.#ids.get(k);
      s?.delete(id);
      if (s?.size === 0) this.#ids.delete(k);
    }
    this.#keysOf.delete(ref);
    this.#order.delete(ref);
  }

  /**
   * Ids of a superset of the resources matching the request, or undefined when no filter is
   * indexed (the caller scans). The narrowest indexed filter wins; all filters are AND.
   */
  candidates(req: SearchRequest): string[] | undefined {
    let best: Set<string> | undefined;
    for (const f of req.filters ?? []) {
      const keys = lookupKeys(req.resourceType, f);
      if (!keys) continue;
      const ids = new Set<string>();
      for (const k of keys) for (const id of this.#ids.get(k) ?? []) ids.add(id);
      if (!best || ids.size < best.size) best = ids;
    }
    if (!best) return undefined;
    const seq = (id: string) => this.#order.get(`${req.resourceType}/${id}`) ?? 0;
    return [...best].sort((a, b) => seq(a) - seq(b));
  }
}
