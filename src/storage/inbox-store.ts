import type pg from 'pg';

/**
 * What the standing goal must not forget across a crash (migration 3): each pushed study it has
 * not finished with, how often handling it failed (for the backoff), which of its instances the
 * PACS has acknowledged (a restart forwards only the others), and the run it started (a restart
 * never starts a second one). The received files themselves are the inbox on disk, written before
 * their C-STORE response went out; this table says how far each study got.
 */
export interface InboxStudyState {
  readonly studyInstanceUid: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly runId?: string;
  /** SOP Instance UIDs the PACS acknowledged. */
  readonly forwarded: ReadonlySet<string>;
}

export class InboxStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** A study has arrived (or was found in the inbox at start-up). */
  async noted(studyInstanceUid: string): Promise<void> {
    await this.pool.query('insert into dfa.inbox_studies (study_instance_uid) values ($1) on conflict do nothing', [studyInstanceUid]);
  }

  async state(studyInstanceUid: string): Promise<InboxStudyState | undefined> {
    const { rows } = await this.pool.query('select attempts, last_error, run_id from dfa.inbox_studies where study_instance_uid = $1', [studyInstanceUid]);
    const acked = await this.pool.query<{ sop_instance_uid: string }>('select sop_instance_uid from dfa.inbox_forwarded where study_instance_uid = $1', [studyInstanceUid]);
    const forwarded = new Set(acked.rows.map((r) => r.sop_instance_uid));
    const r = rows[0] as { attempts: number; last_error: string | null; run_id: string | null } | undefined;
    if (!r && forwarded.size === 0) return undefined;
    return {
      studyInstanceUid,
      attempts: r?.attempts ?? 0,
      ...(r?.last_error ? { lastError: r.last_error } : {}),
      ...(r?.run_id ? { runId: r.run_id } : {}),
      forwarded,
    };
  }

  /** The PACS acknowledged these instances of the study. */
  async forwarded(studyInstanceUid: string, sopInstanceUids: readonly string[]): Promise<void> {
    if (sopInstanceUids.length === 0) return;
    await this.pool.query(
      `insert into dfa.inbox_forwarded (sop_instance_uid, study_instance_uid) select unnest($1::text[]), $2 on conflict do nothing`,
      [sopInstanceUids, studyInstanceUid],
    );
  }

  /** Handling failed; the next attempt is due at `nextAt`. Returns the number of failed attempts so far. */
  async failed(studyInstanceUid: string, error: string, nextAt: Date): Promise<number> {
    const { rows } = await this.pool.query<{ attempts: number }>(
      `insert into dfa.inbox_studies (study_instance_uid, attempts, last_error, next_attempt_at) values ($1, 1, $2, $3)
       on conflict (study_instance_uid) do update set attempts = dfa.inbox_studies.attempts + 1, last_error = $2, next_attempt_at = $3, updated_at = now()
       returning attempts`,
      [studyInstanceUid, error, nextAt],
    );
    return rows[0]?.attempts ?? 1;
  }

  async started(studyInstanceUid: string, runId: string): Promise<void> {
    await this.pool.query(
      `insert into dfa.inbox_studies (study_instance_uid, run_id) values ($1, $2)
       on conflict (study_instance_uid) do update set run_id = $2, last_error = null, next_attempt_at = null, updated_at = now()`,
      [studyInstanceUid, runId],
    );
  }

  /** The study is handled and its inbox files are gone: forget it (a later push of it starts afresh). */
  async done(studyInstanceUid: string, sopInstanceUids: readonly string[]): Promise<void> {
    await this.pool.query('delete from dfa.inbox_forwarded where sop_instance_uid = any($1::text[])', [sopInstanceUids]);
    await this.pool.query('delete from dfa.inbox_studies where study_instance_uid = $1', [studyInstanceUid]);
  }

  /** Studies not finished with, oldest first (for the API and the log at start-up). */
  async pending(): Promise<{ studyInstanceUid: string; attempts: number; lastError?: string; runId?: string; nextAttemptAt?: Date }[]> {
    const { rows } = await this.pool.query('select study_instance_uid, attempts, last_error, run_id, next_attempt_at from dfa.inbox_studies order by first_at');
    return rows.map((r: { study_instance_uid: string; attempts: number; last_error: string | null; run_id: string | null; next_attempt_at: Date | null }) => ({
      studyInstanceUid: r.study_instance_uid,
      attempts: r.attempts,
      ...(r.last_error ? { lastError: r.last_error } : {}),
      ...(r.run_id ? { runId: r.run_id } : {}),
      ...(r.next_attempt_at ? { nextAttemptAt: r.next_attempt_at } : {}),
    }));
  }
}
