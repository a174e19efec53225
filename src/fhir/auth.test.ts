import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT, type JWK } from 'jose';
import type { Patient } from '@medplum/fhirtypes';
import { loadConfig } from '../core/config.ts';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { authFromConfig, basicAuth, bearerAuth, clientCredentialsAuth, noAuth, smartBackendAuth, type FhirAuth } from './auth.ts';
import { FhirClient } from './client.ts';
import { startFhirServer, type FhirServer } from './dev-server/server.ts';

// Each auth mode against the dev server with enforcement on: good credentials work, bad ones
// give a clear FHIR_AUTH_FAILED and write nothing, and secrets never reach the log.
let server: FhirServer;
let rsaPem: string;
let ecJwk: JWK;
let strangerPem: string;
const SECRET = 's3cret-client-value';
const PASSWORD = 'pa55word-value';
const STATIC = 'static-bearer-token-value';
const log = memoryLogger();

before(async () => {
  const rsa = await generateKeyPair('RS384', { extractable: true });
  const ec = await generateKeyPair('ES384', { extractable: true });
  const stranger = await generateKeyPair('RS384', { extractable: true });
  rsaPem = await exportPKCS8(rsa.privateKey);
  ecJwk = { ...(await exportJWK(ec.privateKey)), kid: 'ec-1' };
  strangerPem = await exportPKCS8(stranger.privateKey);
  server = await startFhirServer({
    auth: {
      basic: { username: 'alice', password: PASSWORD },
      bearerTokens: [STATIC],
      clients: [
        { clientId: 'cc-client', clientSecret: SECRET },
        { clientId: 'smart-rsa', jwks: { keys: [{ ...(await exportJWK(rsa.publicKey)), alg: 'RS384' }] } },
        { clientId: 'smart-ec', jwks: { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES384' }] } },
      ],
    },
  });
});
after(async () => {
  await server.stop();
});

const client = (auth: FhirAuth, f?: typeof fetch) => new FhirClient({ baseUrl: server.url, auth, retryBaseMs: 1, log, fetch: f });
const admin = () => client(bearerAuth(STATIC));
const countMarked = async (mark: string) => (await admin().search<Patient>('Patient', { family: mark })).length;

async function roundTrip(auth: FhirAuth, mark: string): Promise<void> {
  const c = client(auth);
  const { resource } = await c.create<Patient>({ resourceType: 'Patient', name: [{ family: mark }] });
  assert.equal((await c.read<Patient>('Patient', resource.id)).name?.[0]?.family, mark);
}

async function refused(auth: FhirAuth, mark: string, why: RegExp): Promise<void> {
  await assert.rejects(
    () => client(auth).create<Patient>({ resourceType: 'Patient', name: [{ family: mark }] }),
    (e) => isDfaError(e, 'FHIR_AUTH_FAILED') && why.test(e.message),
  );
  assert.equal(await countMarked(mark), 0, 'nothing written');
}

test('none: refused by a server that enforces auth', async () => {
  await refused(noAuth(), 'none-mode', /401/);
});

test('basic: right password works, wrong one is refused', async () => {
  await roundTrip(basicAuth('alice', PASSWORD), 'basic-ok');
  await refused(basicAuth('alice', 'wrong'), 'basic-bad', /401/);
});

test('bearer: static token works, unknown token is refused', async () => {
  await roundTrip(bearerAuth(STATIC), 'bearer-ok');
  await refused(bearerAuth('not-a-token'), 'bearer-bad', /401/);
});

test('client credentials: token fetched once and cached; bad secret → clear error', async () => {
  let tokenCalls = 0;
  const counting: typeof fetch = (input, init) => {
    if (String(input).endsWith('/auth/token')) tokenCalls++;
    return fetch(input, init);
  };
  const auth = clientCredentialsAuth({ tokenUrl: server.tokenUrl, clientId: 'cc-client', clientSecret: SECRET, fetch: counting });
  const c = client(auth, counting);
  await c.create<Patient>({ resourceType: 'Patient', name: [{ family: 'cc-ok' }] });
  await c.search('Patient', { family: 'cc-ok' });
  assert.equal(tokenCalls, 1);
  await refused(clientCredentialsAuth({ tokenUrl: server.tokenUrl, clientId: 'cc-client', clientSecret: 'nope' }), 'cc-bad', /invalid|wrong secret/);
});

test('SMART backend services: RS384 (PEM) and ES384 (JWK) assertions accepted', async () => {
  await roundTrip(smartBackendAuth({ tokenUrl: server.tokenUrl, clientId: 'smart-rsa', privateKey: rsaPem }), 'smart-rsa-ok');
  await roundTrip(smartBackendAuth({ tokenUrl: server.tokenUrl, clientId: 'smart-ec', privateKey: JSON.stringify(ecJwk) }), 'smart-ec-ok');
});

test('SMART backend services: a key not in the registered JWKS is refused', async () => {
  await refused(smartBackendAuth({ tokenUrl: server.tokenUrl, clientId: 'smart-rsa', privateKey: strangerPem }), 'smart-bad', /client_assertion rejected/);
  await refused(smartBackendAuth({ tokenUrl: server.tokenUrl, clientId: 'nobody', privateKey: rsaPem }), 'smart-unknown', /unknown client/);
});

test('the token endpoint refuses a replayed assertion and one for another audience', async () => {
  const key = await importPKCS8(rsaPem, 'RS384');
  const assertion = (aud: string, jti: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS384' }).setIssuer('smart-rsa').setSubject('smart-rsa').setAudience(aud).setJti(jti).setIssuedAt().setExpirationTime('4m').sign(key);
  const ask = async (jwt: string) => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });
    const r = await fetch(server.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    return { status: r.status, body: (await r.json()) as { error?: string; error_description?: string } };
  };
  const once = await assertion(server.tokenUrl, 'jti-1');
  assert.equal((await ask(once)).status, 200);
  const replay = await ask(once);
  assert.equal(replay.status, 401);
  assert.match(replay.body.error_description ?? '', /jti reused/);
  const wrongAud = await ask(await assertion('https://elsewhere.example/token', 'jti-2'));
  assert.equal(wrongAud.status, 401);
  assert.match(wrongAud.body.error_description ?? '', /aud/);
});

test('a revoked/expired cached token is replaced once after a 401', async () => {
  let tokenCalls = 0;
  let sabotage = true;
  const f: typeof fetch = (input, init) => {
    if (String(input).endsWith('/auth/token')) tokenCalls++;
    else if (sabotage && init?.headers) {
      sabotage = false;
      const h = { ...(init.headers as Record<string, string>), authorization: 'Bearer expired' };
      return fetch(input, { ...init, headers: h });
    }
    return fetch(input, init);
  };
  const auth = clientCredentialsAuth({ tokenUrl: server.tokenUrl, clientId: 'cc-client', clientSecret: SECRET, fetch: f });
  const page = await client(auth, f).searchPage('Patient', { _count: 1 });
  assert.equal(page.resourceType, 'Bundle');
  assert.equal(tokenCalls, 2);
});

test('authFromConfig builds each mode from DFA_* settings and names what is missing', async () => {
  const base = { DFA_FHIR_URL: server.url, DFA_FHIR_TOKEN_URL: server.tokenUrl };
  const cfg = loadConfig({ ...base, DFA_FHIR_AUTH: 'client-credentials', DFA_FHIR_CLIENT_ID: 'cc-client', DFA_FHIR_CLIENT_SECRET: SECRET });
  await roundTrip(authFromConfig(cfg), 'cfg-cc');
  const smart = loadConfig({ ...base, DFA_FHIR_AUTH: 'smart-backend', DFA_FHIR_CLIENT_ID: 'smart-rsa', DFA_FHIR_PRIVATE_KEY: rsaPem });
  await roundTrip(authFromConfig(smart), 'cfg-smart');
  assert.throws(() => authFromConfig(loadConfig({ DFA_FHIR_AUTH: 'basic', DFA_FHIR_USERNAME: 'x' })), (e) => isDfaError(e, 'CONFIG_INVALID') && /DFA_FHIR_PASSWORD/.test(e.message));
});

test('no secret, password or token ever appears in the log', () => {
  const all = log.lines.join('\n');
  for (const s of [SECRET, PASSWORD, STATIC, 'BEGIN PRIVATE KEY']) assert.ok(!all.includes(s), `log leaks ${s.slice(0, 4)}…`);
});
