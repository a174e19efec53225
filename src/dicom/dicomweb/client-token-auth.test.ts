/**
 * DICOMweb with the FHIR client's token modes: a real OAuth2 token endpoint on loopback (the FHIR
 * dev server's TokenService: client credentials, SMART Backend Services JWT assertions) issues the
 * tokens our DICOMweb server accepts. STOW-RS, QIDO-RS and WADO-RS work with each mode configured
 * from DFA_DICOMWEB_*; a refused client fails with DICOMWEB_AUTH_FAILED and no secret anywhere; a
 * token the server revokes is renewed once and the request goes through.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { loadConfig } from '../../core/config.ts';
import { exitCodeFor, isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { TokenService } from '../../fhir/dev-server/token-service.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { PacsIndexStore } from '../embedded-pacs/index-store.ts';
import { dicomWebAuthFromConfig } from './auth.ts';
import { DicomWebClient } from './client.ts';
import { DicomWebServer } from './server.ts';

const SECRET = 'cc-s3cret-value-9431';
const FILE = join(CIP64_DICOM_DIR, 'IMG0001.dcm');
let dir: string;
let idp: Server;
let tokenUrl: string;
let tokens: TokenService;
let dicomweb: DicomWebServer;
let rsaPem: string;
let tokenRequests = 0;
let revoked = new Set<string>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-dicomweb-token-'));
  const rsa = await generateKeyPair('RS384', { extractable: true });
  rsaPem = await exportPKCS8(rsa.privateKey);
  tokens = new TokenService({
    clients: [
      { clientId: 'cc-client', clientSecret: SECRET },
      { clientId: 'smart-rsa', jwks: { keys: [{ ...(await exportJWK(rsa.publicKey)), alg: 'RS384' }] } },
    ],
  });
  idp = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      tokenRequests++;
      void tokens.token(new URLSearchParams(raw), req.headers.authorization, tokenUrl).then((r) => {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      });
    });
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  tokenUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/token`;
  dicomweb = await DicomWebServer.start({
    store: await PacsIndexStore.open(join(dir, 'pacs')),
    auth: { bearer: (h) => !revoked.has(h ?? '') && tokens.authorize(h) },
  });
});
after(async () => {
  await dicomweb.close();
  await new Promise((r) => idp.close(r));
  await rm(dir, { recursive: true, force: true });
});

test('client credentials from DFA_DICOMWEB_*: STOW-RS, QIDO-RS and WADO-RS with a token from the endpoint; one token serves many requests', async () => {
  const cfg = loadConfig({ DFA_DICOMWEB_URL: dicomweb.url, DFA_DICOMWEB_AUTH: 'client-credentials', DFA_DICOMWEB_TOKEN_URL: tokenUrl, DFA_DICOMWEB_CLIENT_ID: 'cc-client', DFA_DICOMWEB_CLIENT_SECRET: SECRET });
  const log = memoryLogger();
  const c = new DicomWebClient({ baseUrl: dicomweb.url, auth: dicomWebAuthFromConfig(cfg), log });
  const before = tokenRequests;
  const stored = await c.store([FILE]);
  assert.equal(stored[0].ok, true);
  const [study] = await c.qidoStudies({});
  assert.ok(study.studyInstanceUid);
  const series = await c.qidoSeries(study.studyInstanceUid);
  assert.equal(series.length, 1);
  const got = await c.retrieveSeries(study.studyInstanceUid, series[0].seriesInstanceUid, join(dir, 'wado'));
  assert.equal(got.length, 1);
  assert.equal(tokenRequests - before, 1, 'the token is cached');
  assert.ok(!log.lines.join('\n').includes(SECRET));

  // The server revokes the token: the client fetches a fresh one once and carries on.
  const [authorization] = Object.values(await dicomWebAuthFromConfig(cfg)!.headers());
  revoked = new Set([authorization]);
  const c2 = new DicomWebClient({ baseUrl: dicomweb.url, auth: dicomWebAuthFromConfig(cfg) });
  assert.equal((await c2.qidoStudies({})).length, 1);
  revoked = new Set();
});

test('SMART backend services (RS384 client assertion) from DFA_DICOMWEB_PRIVATE_KEY', async () => {
  const cfg = loadConfig({ DFA_DICOMWEB_URL: dicomweb.url, DFA_DICOMWEB_AUTH: 'smart-backend', DFA_DICOMWEB_TOKEN_URL: tokenUrl, DFA_DICOMWEB_CLIENT_ID: 'smart-rsa', DFA_DICOMWEB_PRIVATE_KEY: rsaPem });
  const c = new DicomWebClient({ baseUrl: dicomweb.url, auth: dicomWebAuthFromConfig(cfg) });
  assert.ok((await c.qidoStudies({})).length >= 1);
});

test('a refused client: DICOMWEB_AUTH_FAILED (exit 2) with the endpoint\'s reason, no secret; missing settings named', async () => {
  const wrong = 'not-the-secret-1234';
  const cfg = loadConfig({ DFA_DICOMWEB_URL: dicomweb.url, DFA_DICOMWEB_AUTH: 'client-credentials', DFA_DICOMWEB_TOKEN_URL: tokenUrl, DFA_DICOMWEB_CLIENT_ID: 'cc-client', DFA_DICOMWEB_CLIENT_SECRET: wrong });
  const c = new DicomWebClient({ baseUrl: dicomweb.url, auth: dicomWebAuthFromConfig(cfg) });
  const err = await c.qidoStudies({}).catch((e: unknown) => e);
  assert.ok(isDfaError(err, 'DICOMWEB_AUTH_FAILED'), String(err));
  assert.equal(exitCodeFor(err), 2);
  assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes(wrong));
  assert.throws(
    () => dicomWebAuthFromConfig(loadConfig({ DFA_DICOMWEB_AUTH: 'smart-backend', DFA_DICOMWEB_TOKEN_URL: tokenUrl })),
    (e) => isDfaError(e, 'CONFIG_INVALID') && /DFA_DICOMWEB_CLIENT_ID/.test(e.message),
  );
  // Without a token the server answers 401 and the hint names the setting.
  const none = new DicomWebClient({ baseUrl: dicomweb.url });
  await assert.rejects(none.qidoStudies({}), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 401);
});
