import type { JobStatus } from '../storage/audit.ts';
import { MAX_PAGE, type JobSearch } from '../storage/job-search.ts';

/** The query string of `GET /jobs`: filters and paging (all optional). */
export interface JobListQuery {
  readonly runId?: string;
  /** One status or several, comma-separated: `status=review,failed`. */
  readonly status?: string;
  readonly q?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly offset?: string;
  readonly phi?: string;
}

const FILTERS = ['status', 'q', 'from', 'to', 'limit', 'offset'] as const;

/** `?phi=1` (or true / yes): the caller asks to see patient names and MRNs. */
export function wantsPhi(query: unknown): boolean {
  const v = (query as { phi?: unknown } | undefined)?.phi;
  return typeof v === 'string' && ['1', 'true', 'yes'].includes(v.toLowerCase());
}

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`'${name}' must be a whole number ≥ 0, not '${v}'`);
  return n;
};

/**
 * A search when the query names any filter or page, else undefined (the plain list answers, as
 * before). Bad numbers throw; statuses and days are checked by the search itself (400 either way).
 */
export function jobSearchFrom(q: JobListQuery, phi: boolean): JobSearch | undefined {
  if (!FILTERS.some((k) => q[k] !== undefined && q[k] !== '')) return undefined;
  let limit: number | undefined;
  let offset: number | undefined;
  try {
    limit = int(q.limit, 'limit');
    offset = int(q.offset, 'offset');
  } catch (e) {
    throw Object.assign(new Error((e as Error).message), { statusCode: 400 });
  }
  return {
    ...(q.status ? { status: q.status.split(',').map((s) => s.trim()).filter(Boolean) as JobStatus[] } : {}),
    ...(q.q ? { q: q.q } : {}),
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.runId ? { runId: q.runId } : {}),
    limit: Math.min(limit ?? 50, MAX_PAGE),
    offset: offset ?? 0,
    phi,
  };
}
