/**
 * GET /jobs filters and pages in SQL: 10,000 job rows in the embedded PostgreSQL (PGlite), then
 * filtered pages through the real API and audit store, checked against the same filter done in
 * plain JS over what was inserted. Also: the plain list keeps its shape; ?phi=1 follows canSeePhi,
 * and a caller who may not see PHI cannot find a patient by name.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../core/config.ts';
import { memoryLogger } from '../core/log.ts';
import { AuditStore } from '../storage/audit.ts';
import { openDatabase } from '../storage/db.ts';
import { buildApi } from './server.ts';

const N = 10_000;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'review'] as const;

/** Row i: deterministic status, accession, description, patient and day (spread over 20 days of Nov 2026). */
const row = (i: number) => ({
  key: `job-${String(i).padStart(5, '0')}`,
  uid: `1.2.826.0.1.${i}`,
  status: STATUSES[i % 6],
  accession: `ACC${i}`,
  description: i % 7 === 0 ? 'CT CHEST LOW DOSE' : 'CT ABDOMEN',
  mrn: `MRN${1000000 + i}`,
  name: i === 4242 ? 'Needle^Hay' : `Doe^Pat${i}`,
  day: `2026-11-${String(1 + (i % 20)).padStart(2, '0')}`,
  // updated_at order = i descending; ties impossible
  updated: new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString(),
});

test('GET /jobs: status / text / date filters and paging over 10,000 jobs come back right, with x-total-count', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-joblist-'));
  const cfg = loadConfig({ DFA_DATA_DIR: dir });
  const db = await openDatabase(cfg);
  const audit = new AuditStore(db.pool);
  let allowPhi = true;
  const app = buildApi({
    version: 'test',
    plan: () => Promise.reject(new Error('unused')),
    startRun: () => Promise.reject(new Error('unused')),
    audit,
    getRun: async () => undefined,
    eventsAfter: async () => [],
    readiness: async () => ({}),
    log: memoryLogger(),
    canSeePhi: () => allowPhi,
  });
  try {
    const rows = Array.from({ length: N }, (_, i) => row(i));
    await db.pool.query(`insert into dfa.runs (run_id, goal, plan, plan_key) values ('run-big', 'many', '{}', 'p')`);
    // One statement per 1,000 rows (jsonb built in SQL from the arrays).
    for (let at = 0; at < N; at += 1000) {
      const part = rows.slice(at, at + 1000);
      await db.pool.query(
        `insert into dfa.jobs (job_key, plan_key, run_id, study_instance_uid, imaging_study, status, plan, work_item, created_at, updated_at)
         select k, 'p', 'run-big', u, 'ImagingStudy/' || k, s, '{}',
           jsonb_build_object('imagingStudy', 'ImagingStudy/' || k, 'studyInstanceUid', u, 'accessionNumber', a, 'description', d,
                              'patientMrn', m, 'patientName', nm, 'modalities', '["CT"]'::jsonb, 'seriesUids', '[]'::jsonb),
           (dy || 'T12:00:00Z')::timestamptz, up::timestamptz
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           as t(k, u, s, a, d, m, nm, dy, up)`,
        [part.map((r) => r.key), part.map((r) => r.uid), part.map((r) => r.status), part.map((r) => r.accession), part.map((r) => r.description),
          part.map((r) => r.mrn), part.map((r) => r.name), part.map((r) => r.day), part.map((r) => r.updated)],
      );
    }
    const newestFirst = [...rows].reverse();
    const get = async (qs: string) => {
      const res = await app.inject({ url: `/jobs?${qs}` });
      assert.equal(res.statusCode, 200, res.body);
      return { total: Number(res.headers['x-total-count']), keys: (res.json() as { jobKey: string }[]).map((j) => j.jobKey), body: res.json() as any[], phi: res.headers['x-dfa-phi'] };
    };

    // Status + text + date range, second page of 25.
    const want = newestFirst.filter((r) => (r.status === 'failed' || r.status === 'review') && r.description.includes('LOW DOSE') && r.day >= '2026-11-05' && r.day <= '2026-11-09');
    assert.ok(want.length > 60, `enough rows to page: ${want.length}`);
    const page2 = await get('status=failed,review&q=low%20dose&from=2026-11-05&to=2026-11-09&limit=25&offset=25');
    assert.equal(page2.total, want.length);
    assert.deepEqual(page2.keys, want.slice(25, 50).map((r) => r.key));
    assert.ok(page2.body.every((j) => (j.status === 'failed' || j.status === 'review') && /LOW DOSE/.test(j.who.description)));

    // Text over accession and study UID; the last page is short.
    const acc = await get('q=ACC999&limit=50');
    assert.deepEqual(acc.keys.sort(), ['job-00999', 'job-09990', 'job-09991', 'job-09992', 'job-09993', 'job-09994', 'job-09995', 'job-09996', 'job-09997', 'job-09998', 'job-09999'].sort());
    assert.equal(acc.total, 11);
    const byUid = await get('q=1.2.826.0.1.777');
    assert.ok(byUid.keys.includes('job-00777') && byUid.total === byUid.keys.length);
    const review = newestFirst.filter((r) => r.status === 'review');
    const last = await get(`status=review&limit=100&offset=${review.length - 7}`);
    assert.deepEqual(last.keys, review.slice(-7).map((r) => r.key));
    assert.equal(last.total, review.length);
    // LIKE wildcards typed by a person are literal.
    assert.equal((await get('q=%25')).total, 0);

    // Patient name search and ?phi=1 only for callers allowed to see PHI.
    const needle = await get('q=needle&phi=1');
    assert.deepEqual(needle.keys, ['job-04242']);
    assert.equal(needle.body[0].who.patient, 'MRN1004242');
    assert.equal(needle.phi, 'shown');
    allowPhi = false;
    const hidden = await get('q=needle&phi=1');
    assert.equal(hidden.total, 0, 'a caller who may not see names cannot find a patient by name');
    assert.equal(hidden.phi, 'masked');
    const masked = await app.inject({ url: '/jobs/job-04242?phi=1' });
    assert.equal(masked.json().job.who.patient, '***4242');
    assert.equal(masked.json().job.who.patientName, 'N. H.');
    allowPhi = true;
    assert.equal((await app.inject({ url: '/jobs/job-04242?phi=1' })).json().job.who.patientName, 'Needle, Hay');
    assert.equal((await app.inject({ url: '/jobs/job-04242' })).json().job.who.patient, '***4242', 'masked unless asked');

    // The plain list keeps its old shape (an array, newest first, 100 at most).
    const plain = await app.inject({ url: '/jobs' });
    assert.equal(plain.json().length, 100);
    assert.equal(plain.json()[0].jobKey, 'job-09999');
    assert.equal(plain.headers['x-total-count'], undefined);

    // Bad filters are 400s that say what is wrong.
    const bad = await app.inject({ url: '/jobs?status=done' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /unknown job status 'done'/);
    assert.equal((await app.inject({ url: '/jobs?from=last-week' })).statusCode, 400);
    assert.equal((await app.inject({ url: '/jobs?limit=-3' })).statusCode, 400);
  } finally {
    await app.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
