import type pg from 'pg';
import { DfaError } from '../core/errors.ts';
import type { ArtifactStore } from '../core/ports.ts';
import type { ArchiveEntry, ArchiveInput, ArchiveQuery, ArchiveRecord } from './archive-record.ts';

/** Artifact key prefix of one job's archive entry: one prefix per study, one folder per job under it. */
export function archivePrefix(studyInstanceUid: string, jobKey: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `archive/${safe(studyInstanceUid)}/${safe(jobKey)}`;
}

interface Row {
  study_instance_uid: string;
  job_key: string;
  patient_id: string | null;
  prefix: string;
  archived_at: Date;
  record: ArchiveRecord;
}
const entry = (r: Row): ArchiveEntry => ({
  studyInstanceUid: r.study_instance_uid,
  jobKey: r.job_key,
  ...(r.patient_id ? { patientId: r.patient_id } : {}),
  prefix: r.prefix,
  archivedAt: r.archived_at.toISOString(),
  record: r.record,
});

/**
 * The results archive (storage_service): each finished job's RTSTRUCT / SEG Part 10, previews and a
 * JSON record under `archive/<StudyInstanceUID>/<jobKey>/` in the artifact store, indexed in
 * PostgreSQL (dfa.archive_entries) by study, patient and date. Objects first, then the row: a row
 * always points at complete objects; archiving a job again rewrites the same keys and keeps one row.
 */
export class ResultsArchive {
  private readonly store: ArtifactStore;
  private readonly pool: pg.Pool;
  constructor(store: ArtifactStore, pool: pg.Pool) {
    this.store = store;
    this.pool = pool;
  }

  async record(input: ArchiveInput, now = new Date()): Promise<ArchiveEntry> {
    const { record: r } = input;
    const prefix = archivePrefix(r.studyInstanceUid, r.jobKey);
    const copy = async (from: string, name: string) => {
      const key = `${prefix}/${name}`;
      await this.store.put(key, await this.store.get(from));
      return key;
    };
    const rtstruct = input.rtstruct && { seriesInstanceUid: input.rtstruct.seriesInstanceUid, sopInstanceUid: input.rtstruct.sopInstanceUid, key: await copy(input.rtstruct.from, 'rtstruct.dcm') };
    const seg = input.seg && { seriesInstanceUid: input.seg.seriesInstanceUid, sopInstanceUid: input.seg.sopInstanceUid, key: await copy(input.seg.from, 'seg.dcm') };
    const previews = [];
    for (const p of input.previews) previews.push({ name: p.name, key: await copy(p.from, `previews/${p.name.replace(/[^A-Za-z0-9._-]/g, '_')}.png`) });
    const full: ArchiveRecord = { ...r, outputs: { ...(rtstruct ? { rtstruct } : {}), ...(seg ? { seg } : {}), previews }, archivedAt: now.toISOString() };
    await this.store.put(`${prefix}/record.json`, new TextEncoder().encode(JSON.stringify(full, null, 2)));
    const { rows } = await this.pool.query<Row>(
      `insert into dfa.archive_entries (study_instance_uid, job_key, patient_id, prefix, archived_at, record)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (study_instance_uid, job_key) do update set patient_id = excluded.patient_id, prefix = excluded.prefix,
         archived_at = excluded.archived_at, record = excluded.record
       returning *`,
      [r.studyInstanceUid, r.jobKey, r.patientId ?? null, prefix, now, JSON.stringify(full)],
    );
    return entry(rows[0]!);
  }

  /** Entries by study, patient and/or archive date range, newest first. */
  async query(q: ArchiveQuery): Promise<ArchiveEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.study) add('study_instance_uid = ?', q.study);
    if (q.patient) add('patient_id = ?', q.patient);
    if (q.from) add('archived_at >= ?', parseDate(q.from, 'from', false));
    if (q.to) add('archived_at <= ?', parseDate(q.to, 'to', true));
    args.push(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    const { rows } = await this.pool.query<Row>(
      `select * from dfa.archive_entries ${where.length ? `where ${where.join(' and ')}` : ''} order by archived_at desc, job_key limit $${args.length}`,
      args,
    );
    return rows.map(entry);
  }

  /** Delete entries archived before `before`: their objects first, then their rows. Returns what went. */
  async prune(before: Date): Promise<ArchiveEntry[]> {
    const { rows } = await this.pool.query<Row>('select * from dfa.archive_entries where archived_at < $1 order by archived_at', [before]);
    for (const r of rows) {
      await this.store.remove(r.prefix);
      await this.pool.query('delete from dfa.archive_entries where study_instance_uid = $1 and job_key = $2', [r.study_instance_uid, r.job_key]);
    }
    return rows.map(entry);
  }
}

/** The cut-off for a retention of `days` days (DFA_ARCHIVE_RETENTION_DAYS), or undefined: keep forever. */
export function retentionCutoff(days: number | undefined, now = new Date(Date.now())): Date | undefined {
  return days === undefined ? undefined : new Date(now.getTime() - days * 86_400_000);
}

/** YYYY-MM-DD (a whole day: `to` includes it) or an ISO 8601 time. */
function parseDate(s: string, what: string, endOfDay: boolean): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(s);
  const d = new Date(day ? `${s}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z` : s);
  if (Number.isNaN(d.getTime())) throw new DfaError('CONFIG_INVALID', `archive query: '${what}' must be a date (YYYY-MM-DD) or an ISO 8601 time`);
  return d;
}
