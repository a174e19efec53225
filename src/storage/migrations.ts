import type pg from 'pg';

/**
 * Our own tables (schema `dfa`); pg-boss and the LangGraph checkpointer create theirs themselves.
 * Migrations are append-only; each runs once, in order, under an advisory lock so that several
 * workers starting together against one PostgreSQL do not race.
 */
const MIGRATIONS: readonly string[] = [
  // 1: goal runs, one row per job (the audit record), run ↔ job outcomes, job events.
  `
  create table dfa.runs (
    run_id text primary key,
    goal text not null,
    plan jsonb not null,
    plan_key text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    summary jsonb
  );
  create table dfa.jobs (
    job_key text primary key,               -- (plan, StudyInstanceUID): the dedup key
    plan_key text not null,
    run_id text not null,                   -- the goal run that last (re)queued it
    generation int not null default 1,      -- bumped on re-run; checkpoint thread = job_key#generation
    study_instance_uid text not null,
    imaging_study text,
    status text not null check (status in ('queued','running','succeeded','failed','skipped')),
    step text,                              -- last step finished, or the step that failed
    reason text,
    plan jsonb not null,
    work_item jsonb not null,
    input_series jsonb not null default '[]',
    output_sops jsonb not null default '[]',
    fhir_written jsonb not null default '[]',
    model jsonb,
    volumes_ml jsonb,
    timings_ms jsonb not null default '{}',
    result jsonb,
    attempts int not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    finished_at timestamptz
  );
  create index jobs_run on dfa.jobs (run_id);
  create table dfa.run_jobs (
    run_id text not null references dfa.runs(run_id),
    job_key text not null references dfa.jobs(job_key),
    action text not null,                   -- enqueued | in-flight | already-done
    primary key (run_id, job_key)
  );
  create table dfa.job_events (
    id bigserial primary key,
    job_key text not null,
    generation int not null,
    at timestamptz not null default now(),
    step text,
    kind text not null,                     -- queued | started | step | retry | fallback | skipped | failed | succeeded
    message text,
    data jsonb
  );
  create index job_events_job on dfa.job_events (job_key, id);
  `,
  // 2: worker liveness on a shared database (src/agent/jobs/liveness.ts).
  `
  create table dfa.workers (
    worker_id text primary key,
    host text not null,
    pid int not null,
    started_at timestamptz not null default now(),
    seen_at timestamptz not null default now()
  );
  create table dfa.job_owners (
    queue_job_id uuid primary key,          -- pgboss.job.id
    worker_id text not null,
    job_key text not null,
    taken_at timestamptz not null default now()
  );
  create index job_owners_worker on dfa.job_owners (worker_id);
  `,
  // 3: nothing received is lost (src/storage/inbox-store.ts): the standing goal's pushed studies,
  // which of their instances the PACS has acknowledged, and the run each started; a job waiting
  // out an upstream outage says so (src/agent/jobs/outage.ts).
  `
  create table dfa.inbox_studies (
    study_instance_uid text primary key,
    first_at timestamptz not null default now(),
    attempts int not null default 0,        -- forward / register / run attempts that failed
    next_attempt_at timestamptz,
    last_error text,
    run_id text,                            -- set once the run has started
    updated_at timestamptz not null default now()
  );
  create table dfa.inbox_forwarded (
    sop_instance_uid text primary key,      -- the PACS acknowledged this instance (C-STORE / STOW-RS)
    study_instance_uid text not null,
    at timestamptz not null default now()
  );
  create index inbox_forwarded_study on dfa.inbox_forwarded (study_instance_uid);
  alter table dfa.jobs add column waiting text;  -- "waiting for PACS since …" while an outage lasts
  `,
  // 4: contour review. A job may stop before `store` with status 'review'; `review` holds why it
  // waits and, once a person decided, the decision (reviewer, comment, time).
  `
  alter table dfa.jobs drop constraint jobs_status_check;
  alter table dfa.jobs add constraint jobs_status_check
    check (status in ('queued','running','succeeded','failed','skipped','review'));
  alter table dfa.jobs add column review jsonb;
  create index jobs_review on dfa.jobs (updated_at) where status = 'review';
  `,
  // 5: who started a goal run (the API caller's identity, 'standing-goal', or the CLI user).
  `
  alter table dfa.runs add column started_by text;
  `,
  // 6: the results archive (src/storage/archive.ts): one row per archived job; the objects live in
  // the artifact store under archive/<StudyInstanceUID>/<jobKey>/.
  `
  create table dfa.archive_entries (
    study_instance_uid text not null,
    job_key text not null,
    patient_id text,                        -- DICOM PatientID / MRN (masked for viewers by the API)
    prefix text not null,                   -- artifact key prefix of the entry's objects
    archived_at timestamptz not null default now(),
    record jsonb not null,                  -- inputs → outputs, model, QC, coverage, timings, FHIR ids
    primary key (study_instance_uid, job_key)
  );
  create index archive_entries_patient on dfa.archive_entries (patient_id);
  create index archive_entries_archived_at on dfa.archive_entries (archived_at);
  `,
];

export async function migrate(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    // Any constant: serialises concurrent migrators (PostgreSQL advisory lock, released at commit).
    await c.query('select pg_advisory_xact_lock(4242001)');
    await c.query('create schema if not exists dfa');
    await c.query('create table if not exists dfa.schema_version (version int primary key, applied_at timestamptz not null default now())');
    const { rows } = await c.query<{ v: number | null }>('select max(version) as v from dfa.schema_version');
    const have = rows[0]?.v ?? 0;
    for (let i = have; i < MIGRATIONS.length; i++) {
      await c.query(MIGRATIONS[i]);
      await c.query('insert into dfa.schema_version (version) values ($1)', [i + 1]);
    }
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
