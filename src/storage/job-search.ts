import type pg from 'pg';
import { DfaError } from '../core/errors.ts';
import { JOB_COLS, toRecord, type JobRecord, type JobStatus } from './audit.ts';

/**
 * Filtered, paged job lists for the dashboard and `GET /jobs`: done in SQL so that a page of 50
 * out of 10,000 jobs costs one indexed scan and one count, not 10,000 parsed rows in Node.
 */
export interface JobSearch {
  /** Any of these statuses (empty or absent: all). */
  readonly status?: readonly JobStatus[];
  /** Free text, case-insensitive, over study UID, accession, study description, job key, and (with phi) patient name and MRN. */
  readonly q?: string;
  /** Jobs created on or after this day (YYYY-MM-DD, server time zone). */
  readonly from?: string;
  /** Jobs created on or before this day (YYYY-MM-DD, inclusive). */
  readonly to?: string;
  readonly runId?: string;
  /** Whether the free text may match patient name / MRN: a caller who may not see them must not learn them by searching. */
  readonly phi?: boolean;
  readonly limit?: number;
  readonly offset?: number;
}

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'review'];
export const MAX_PAGE = 500;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `%`, `_` and `\` in what a person typed are literal characters, not LIKE wildcards. */
const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function jobSearchWhere(q: JobSearch): { where: string; values: unknown[] } {
  const conds: string[] = [];
  const values: unknown[] = [];
  const add = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  if (q.status?.length) {
    const bad = q.status.filter((s) => !JOB_STATUSES.includes(s));
    if (bad.length) throw new DfaError('CONFIG_INVALID', `unknown job status '${bad.join(', ')}' (one of ${JOB_STATUSES.join(', ')})`);
    conds.push(`status = any(${add([...q.status])}::text[])`);
  }
  for (const [name, day] of [['from', q.from], ['to', q.to]] as const) {
    if (day !== undefined && (!DAY.test(day) || Number.isNaN(Date.parse(day)))) {
      throw new DfaError('CONFIG_INVALID', `'${name}' must be a day as YYYY-MM-DD, not '${day}'`);
    }
  }
  if (q.from) conds.push(`created_at >= ${add(q.from)}::date`);
  if (q.to) conds.push(`created_at < ${add(q.to)}::date + 1`);
  if (q.runId) conds.push(`job_key in (select job_key from dfa.run_jobs where run_id = ${add(q.runId)})`);
  const text = q.q?.trim();
  if (text) {
    const p = add(likeLiteral(text));
    const cols = ['study_instance_uid', 'job_key', "work_item->>'accessionNumber'", "work_item->>'description'"];
    if (q.phi) cols.push("work_item->>'patientName'", "work_item->>'patientMrn'");
    conds.push(`(${cols.map((c) => `${c} ilike ${p}`).join(' or ')})`);
  }
  return { where: conds.length ? `where ${conds.join(' and ')}` : '', values };
}

/** One page, newest activity first, and the number of jobs matching in all. */
export async function searchJobs(pool: pg.Pool, q: JobSearch): Promise<{ jobs: JobRecord[]; total: number }> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 50), 1), MAX_PAGE);
  const offset = Math.max(Math.trunc(q.offset ?? 0), 0);
  const { where, values } = jobSearchWhere(q);
  const n = values.length;
  const [page, count] = await Promise.all([
    pool.query(`select ${JOB_COLS} from dfa.jobs ${where} order by updated_at desc, job_key limit $${n + 1} offset $${n + 2}`, [...values, limit, offset]),
    pool.query<{ n: number }>(`select count(*)::int as n from dfa.jobs ${where}`, values),
  ]);
  return { jobs: page.rows.map(toRecord), total: count.rows[0]?.n ?? 0 };
}
