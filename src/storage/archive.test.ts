import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ArtifactStore } from '../core/ports.ts';
import { isDfaError } from '../core/errors.ts';
import { startTestS3, type TestS3 } from '../../test/support/s3-server.ts';
import { ResultsArchive, archivePrefix, retentionCutoff } from './archive.ts';
import type { ArchiveInput } from './archive-record.ts';
import { openDatabase, type Database } from './db.ts';
import { LocalArtifactStore } from './local-artifacts.ts';
import { S3ArtifactStore } from './s3-artifacts.ts';

// The real embedded database (PGlite, migrations included) and both artifact stores.
let root: string;
let db: Database;
let s3: TestS3;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dfa-archive-'));
  db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: undefined });
  s3 = await startTestS3();
});
after(async () => {
  await db.close();
  await s3.stop();
  await rm(root, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);
async function jobOutputs(store: ArtifactStore, job: string, study: string, patientId: string): Promise<ArchiveInput> {
  await store.put(`jobs/${job}/g1/out/rtstruct.dcm`, enc(`rtstruct of ${study}`));
  await store.put(`jobs/${job}/g1/previews/coronal-lung.png`, enc('png'));
  return {
    record: {
      jobKey: job,
      studyInstanceUid: study,
      patientId,
      imagingStudy: 'ImagingStudy/s1',
      inputs: { seriesInstanceUids: [`${study}.1`] },
      model: { name: 'classical-lung', version: '1.0.0' },
      qc: { ok: true, fallbackUsed: false },
      coverage: { Lung_L: 'complete', Lung_R: 'partial' },
      volumesMl: { Lung_L: 2400, Lung_R: 2600 },
      timingsMs: { retrieve: 120, segment: 900 },
      fhir: ['Task/t1', 'DiagnosticReport/d1', 'Provenance/p1'],
      reviewer: 'dr.lee',
    },
    rtstruct: { seriesInstanceUid: `${study}.9`, sopInstanceUid: `${study}.9.1`, from: `jobs/${job}/g1/out/rtstruct.dcm` },
    previews: [{ name: 'coronal-lung', from: `jobs/${job}/g1/previews/coronal-lung.png` }],
  };
}

for (const [name, makeStore] of [
  ['local disk', async (tag: string) => new LocalArtifactStore(join(root, `art-${tag}`))],
  ['S3', async (tag: string) => new S3ArtifactStore({ client: s3.client(), bucket: s3.bucket, prefix: `archive-test-${tag}`, cacheDir: join(root, `cache-${tag}`) })],
] as const) {
  test(`results archive on ${name}: one prefix per study, indexed by study, patient and date; archiving again keeps one entry; prune removes objects and rows`, async () => {
    const tag = name === 'S3' ? 's3' : 'local';
    const store = await makeStore(tag);
    await db.pool.query('delete from dfa.archive_entries');
    const archive = new ResultsArchive(store, db.pool);
    const a = await jobOutputs(store, `job-a-${tag}`, '1.2.840.1', 'MRN-001');
    const b = await jobOutputs(store, `job-b-${tag}`, '1.2.840.2', 'MRN-002');
    const e1 = await archive.record(a, new Date('2026-01-10T12:00:00Z'));
    await archive.record(b, new Date('2026-03-01T08:00:00Z'));
    const prefix = archivePrefix('1.2.840.1', `job-a-${tag}`);
    assert.equal(e1.prefix, prefix);
    assert.equal(prefix, `archive/1.2.840.1/job-a-${tag}`);
    assert.deepEqual(await store.list(prefix), [`${prefix}/previews/coronal-lung.png`, `${prefix}/record.json`, `${prefix}/rtstruct.dcm`]);
    assert.equal(new TextDecoder().decode(await store.get(`${prefix}/rtstruct.dcm`)), 'rtstruct of 1.2.840.1');
    const rec = JSON.parse(new TextDecoder().decode(await store.get(`${prefix}/record.json`))) as typeof e1.record;
    assert.equal(rec.outputs.rtstruct?.sopInstanceUid, '1.2.840.1.9.1');
    assert.deepEqual(rec.fhir, ['Task/t1', 'DiagnosticReport/d1', 'Provenance/p1']);
    assert.equal(rec.model.version, '1.0.0');
    assert.equal(rec.reviewer, 'dr.lee');

    assert.deepEqual((await archive.query({ study: '1.2.840.1' })).map((e) => e.jobKey), [`job-a-${tag}`]);
    assert.deepEqual((await archive.query({ patient: 'MRN-002' })).map((e) => e.studyInstanceUid), ['1.2.840.2']);
    assert.deepEqual((await archive.query({ from: '2026-02-01' })).map((e) => e.studyInstanceUid), ['1.2.840.2']);
    assert.deepEqual((await archive.query({ to: '2026-01-10' })).map((e) => e.studyInstanceUid), ['1.2.840.1'], "'to' includes the whole day");
    assert.deepEqual((await archive.query({})).map((e) => e.studyInstanceUid), ['1.2.840.2', '1.2.840.1'], 'newest first');
    await assert.rejects(archive.query({ from: 'last tuesday' }), (e) => isDfaError(e, 'CONFIG_INVALID'));

    // A re-executed archive step (after a crash): same keys, one row.
    await archive.record(a, new Date('2026-01-10T12:05:00Z'));
    assert.equal((await archive.query({ study: '1.2.840.1' })).length, 1);

    // Retention: 30 days before 2026-02-15 → the January entry goes, objects and row.
    const cutoff = retentionCutoff(30, new Date('2026-02-15T00:00:00Z'))!;
    const gone = await archive.prune(cutoff);
    assert.deepEqual(gone.map((e) => e.jobKey), [`job-a-${tag}`]);
    assert.deepEqual(await store.list(prefix), []);
    assert.deepEqual((await archive.query({})).map((e) => e.jobKey), [`job-b-${tag}`]);
    assert.equal(retentionCutoff(undefined), undefined, 'unset retention keeps everything');
  });
}
