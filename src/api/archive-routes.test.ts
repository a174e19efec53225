import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { httpStatusFor, isDfaError } from '../core/errors.ts';
import { ResultsArchive } from '../storage/archive.ts';
import { openDatabase } from '../storage/db.ts';
import { LocalArtifactStore } from '../storage/local-artifacts.ts';
import { archiveView, registerArchiveRoutes } from './archive-routes.ts';
import { wantsPhi } from './job-query.ts';

test('GET /archive: by study, patient and date on the real embedded database; patient IDs masked unless allowed and asked; viewers may not search by patient', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-archive-api-'));
  const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: undefined });
  try {
    const store = new LocalArtifactStore(join(root, 'artifacts'));
    const archive = new ResultsArchive(store, db.pool);
    await store.put('jobs/j/out/rtstruct.dcm', new Uint8Array([1]));
    const record = { jobKey: 'j', studyInstanceUid: '1.2.3', patientId: 'MRN-123456', inputs: { seriesInstanceUids: ['1.2.3.1'] }, model: { name: 'classical', version: '1' }, timingsMs: {}, fhir: [] };
    await archive.record({ record, rtstruct: { seriesInstanceUid: '1.2.3.9', sopInstanceUid: '1.2.3.9.1', from: 'jobs/j/out/rtstruct.dcm' }, previews: [] }, new Date('2026-05-05T10:00:00Z'));

    let role = 'viewer';
    const app = Fastify();
    app.setErrorHandler((e, _req, reply) => void reply.status(isDfaError(e) ? httpStatusFor(e) : 500).send({ error: isDfaError(e) ? e.code : 'INTERNAL' }));
    const maySeePhi = () => role !== 'viewer';
    registerArchiveRoutes(app, {
      query: (q) => archive.query(q),
      maySeePhi,
      showPhi: (req, reply) => {
        const phi = wantsPhi(req.query) && maySeePhi();
        reply.header('x-dfa-phi', phi ? 'shown' : 'masked');
        return phi;
      },
    });
    const get = async (url: string) => app.inject({ url });
    let r = await get('/archive?study=1.2.3&phi=1');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-dfa-phi'], 'masked');
    assert.equal(r.json()[0].patientId, '***56');
    assert.equal(r.json()[0].record.patientId, '***56');
    assert.equal((await get('/archive?patient=MRN-123456')).statusCode, 403);
    role = 'operator';
    r = await get('/archive?patient=MRN-123456&phi=1');
    assert.equal(r.json()[0].patientId, 'MRN-123456');
    assert.equal((await get('/archive?from=2026-05-05&to=2026-05-05')).json().length, 1);
    assert.equal((await get('/archive?from=2026-05-06')).json().length, 0);
    assert.equal((await get('/archive?from=yesterday')).statusCode, 400);
    assert.equal((await get('/archive?limit=0')).statusCode, 400);
    assert.equal(archiveView({ ...r.json()[0], patientId: undefined }, false).patientId, undefined);
    await app.close();
  } finally {
    await db.close();
    await rm(root, { recursive: true, force: true });
  }
});
