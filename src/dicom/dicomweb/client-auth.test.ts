/**
 * DICOMweb authentication: basic auth against a real Orthanc with users (wrong password → a clear
 * error naming the setting to fix, nothing stored; right password → works; credentials in the URL
 * work), bearer header and 401 hint checked with a loopback HTTP server that only records what we
 * send (Orthanc has no bearer tokens). Secrets never reach logs or error messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { startOrthanc, type OrthancHandle } from '../../../test/support/orthanc.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { DicomWebClient } from './client.ts';

const PASSWORD = 'c0rrect-h0rse';
const WRONG = 'wr0ng-passw0rd';
const TOKEN = 'tok-3f9a2c-secret';
const FILE = join(CIP64_DICOM_DIR, 'IMG0001.dcm');

let orthanc: OrthancHandle;
before(async () => {
  orthanc = await startOrthanc({ users: { alice: PASSWORD } });
});
after(async () => {
  await orthanc?.stop();
});

async function instanceCount(): Promise<number> {
  const stats = (await (await orthanc.rest('/statistics')).json()) as { CountInstances: number };
  return stats.CountInstances;
}

test('wrong password: STOW-RS fails with a 401 naming DFA_DICOMWEB_USERNAME/PASSWORD, nothing stored, no secret leaked', async () => {
  const log = memoryLogger();
  const c = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, username: 'alice', password: WRONG, log });
  let caught: unknown;
  await assert.rejects(
    c.store([FILE]).catch((e: unknown) => {
      caught = e;
      throw e;
    }),
    (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 401 && /DFA_DICOMWEB_PASSWORD/.test(e.message),
  );
  const all = JSON.stringify({ m: (caught as Error).message, d: (caught as { details: unknown }).details, lines: log.lines });
  assert.ok(!all.includes(WRONG), 'the password appears nowhere');
  assert.ok(!all.includes(Buffer.from(`alice:${WRONG}`).toString('base64')), 'nor its base64');
  assert.equal(await instanceCount(), 0);
});

test('no credentials: the 401 says which settings to set', async () => {
  const c = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl });
  await assert.rejects(c.qidoStudies({}), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /DFA_DICOMWEB_USERNAME and DFA_DICOMWEB_PASSWORD .* or DFA_DICOMWEB_TOKEN/.test(e.message));
});

test('right password (options, or user:password in the URL): store, query and retrieve work', async () => {
  const c = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, username: 'alice', password: PASSWORD });
  const [o] = await c.store([FILE]);
  assert.equal(o.ok, true);
  assert.equal(await instanceCount(), 1);
  const inUrl = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl.replace('http://', `http://alice:${PASSWORD}@`) });
  assert.equal(inUrl.baseUrl, orthanc.dicomWebUrl, 'credentials removed from the URL');
  const [study] = await inUrl.qidoStudies({});
  assert.equal(study.numberOfInstances, 1);
  // The same through an injected fetch (the `fetch` option) instead of node:http.
  const viaFetch = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, username: 'alice', password: PASSWORD, fetch: globalThis.fetch });
  const dest = await mkdtemp(join(tmpdir(), 'dfa-dicomweb-auth-'));
  try {
    const got = await viaFetch.retrieveStudy(study.studyInstanceUid, dest);
    assert.equal(got.length, 1);
    assert.deepEqual(await readFile(got[0].path), await readFile(FILE));
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test('bearer token: sent as Authorization: Bearer; a 401 names DFA_DICOMWEB_TOKEN and never echoes it', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    res.end('token expired');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const c = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/dicom-web/`, token: TOKEN, username: 'ignored', password: 'ignored' });
    await assert.rejects(c.qidoSeries('1.2.3'), (e) => {
      return isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /DFA_DICOMWEB_TOKEN/.test(e.message) && /token expired/.test(e.message) && !e.message.includes(TOKEN);
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].authorization, `Bearer ${TOKEN}`);
    assert.match(seen[0].accept ?? '', /application\/dicom\+json/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
