/**
 * REST API authentication with real counterparts: an OIDC issuer on loopback (discovery document +
 * JWKS served over HTTP), tokens signed in the test with jose, the API on the embedded PostgreSQL
 * with the real audit store. The goal runner records what a worker would, with who started it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../core/config.ts';
import { exitCodeFor, isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { planGoal } from '../agent/planner/index.ts';
import { TEST_CAPS } from '../../test/support/planner-capabilities.ts';
import { planKey } from '../agent/plan.ts';
import { openDatabase, type Database } from '../storage/db.ts';
import { AuditStore } from '../storage/audit.ts';
import { eventsAfter, getRun } from '../storage/run-queries.ts';
import { apiAuthFromConfig, claimValues, roleFrom, type ApiAuthenticator } from '../net/api-auth.ts';
import { buildApi, type ApiDeps } from './server.ts';

const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const AUD = 'dfa-api';
let dir: string;
let cfg: Config;
let db: Database;
let idp: Server;
let issuer: string;
let key: CryptoKey;
let otherKey: CryptoKey;
let jwksHits = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-api-auth-'));
  cfg = loadConfig({ DFA_DATA_DIR: dir });
  db = await openDatabase(cfg);
  const signing = await generateKeyPair('RS256');
  key = signing.privateKey;
  const publicKey = await exportJWK(signing.publicKey);
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const pub = await exportJWK((await generateKeyPair('RS256')).publicKey); // a decoy key in the set
  idp = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/realms/h/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
    if (req.url === '/realms/h/keys') {
      jwksHits++;
      return res.end(JSON.stringify({ keys: [{ ...pub, kid: 'decoy', alg: 'RS256', use: 'sig' }, { ...publicKey, kid: 'k1', alg: 'RS256', use: 'sig' }] }));
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}/realms/h`;
});
after(async () => {
  await db.close();
  await new Promise((r) => idp.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function sign(claims: Record<string, unknown>, o: { iss?: string; aud?: string; exp?: number; with?: CryptoKey; sub?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(o.iss ?? issuer)
    .setAudience(o.aud ?? AUD)
    .setSubject(o.sub ?? 'alice')
    .setIssuedAt(now - 60)
    .setExpirationTime(o.exp ?? now + 300)
    .sign(o.with ?? key);
}

function api(auth: ApiAuthenticator, extra: Partial<ApiDeps> = {}): FastifyInstance {
  const audit = new AuditStore(db.pool);
  let n = 0;
  return buildApi({
    version: 'test',
    plan: (goal) => planGoal(goal, cfg, { capabilities: TEST_CAPS, planner: 'rules' }),
    startRun: async (plan, o) => {
      const runId = `run-${process.pid}-${Date.now()}-${++n}`;
      await audit.startRun({ runId, goal: plan.goal, plan, planKey: planKey(plan), startedBy: o.startedBy });
      return { runId };
    },
    audit,
    getRun: (id) => getRun(db.pool, id),
    eventsAfter: (a, runId) => eventsAfter(db.pool, a, runId),
    readiness: async () => ({ database: { ok: true } }),
    log: memoryLogger(),
    auth,
    ...extra,
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const postGoal = (app: FastifyInstance, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/goals', headers, payload: { goal: GOAL } });

test('oidc: JWKS discovered from the issuer; no token, wrong audience, wrong issuer, expired or foreign-signed tokens are 401', async () => {
  const app = api(apiAuthFromConfig(loadConfig({ DFA_API_AUTH: 'oidc', DFA_API_OIDC_ISSUER: issuer, DFA_API_OIDC_AUDIENCE: AUD })));
  try {
    const none = await app.inject({ url: '/runs' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error, 'API_UNAUTHENTICATED');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="dfa"');
    const cases: [string, string, RegExp][] = [
      ['wrong audience', await sign({ roles: ['operator'] }, { aud: 'someone-else' }), /claim 'aud'/],
      ['wrong issuer', await sign({ roles: ['operator'] }, { iss: 'http://127.0.0.1:1/realms/evil' }), /claim 'iss'/],
      ['expired', await sign({ roles: ['operator'] }, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
      ['signed by another key', await sign({ roles: ['operator'] }, { with: otherKey }), /signature/],
      ['not a JWT', 'abc.def.ghi', /invalid token/],
    ];
    for (const [what, token, why] of cases) {
      const res = await postGoal(app, bearer(token));
      assert.equal(res.statusCode, 401, what);
      assert.match(res.json().message, why, what);
      assert.match(String(res.headers['www-authenticate']), /invalid_token/, what);
      assert.ok(!res.body.includes(token), `${what}: the answer does not echo the token`);
    }
    const basic = await app.inject({ url: '/runs', headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.statusCode, 401);
    // Public: liveness, readiness, the OpenAPI document and the dashboard page (it asks for a token).
    for (const url of ['/health', '/ready', '/openapi.json']) assert.equal((await app.inject({ url })).statusCode, 200, url);
    const spec = (await app.inject({ url: '/openapi.json' })).json();
    assert.equal(spec.components.securitySchemes.bearer.scheme, 'bearer');
    assert.deepEqual(spec.paths['/health'].get.security, [], 'liveness is documented as public');
  } finally {
    await app.close();
  }
});

test('oidc roles: viewer reads but POST /goals is 403; operator and admin start runs, recorded with their identity', async () => {
  const auth = apiAuthFromConfig(loadConfig({ DFA_API_AUTH: 'oidc', DFA_API_OIDC_ISSUER: issuer, DFA_API_OIDC_AUDIENCE: AUD, DFA_API_OIDC_ROLES_CLAIM: 'realm_access.roles' }));
  const app = api(auth);
  try {
    const viewer = await sign({ realm_access: { roles: ['offline_access', 'viewer'] } }, { sub: 'v-1' });
    assert.equal((await app.inject({ url: '/runs', headers: bearer(viewer) })).statusCode, 200);
    const refused = await postGoal(app, bearer(viewer));
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, 'API_FORBIDDEN');

    const noRole = await sign({ realm_access: { roles: ['offline_access'] } });
    assert.equal((await app.inject({ url: '/runs', headers: bearer(noRole) })).statusCode, 403);

    const operator = await sign({ realm_access: { roles: ['operator'] }, preferred_username: 'dr.alice' }, { sub: 'a-42' });
    const ok = await postGoal(app, bearer(operator));
    assert.equal(ok.statusCode, 202);
    const run = await getRun(db.pool, ok.json().runId);
    assert.equal(run?.startedBy, 'oidc:a-42 (dr.alice)', 'the audit names who started the run');
    const shown = (await app.inject({ url: `/runs/${ok.json().runId}`, headers: bearer(viewer) })).json();
    assert.equal(shown.startedBy, 'oidc:a-42 (dr.alice)');

    const admin = await sign({ realm_access: { roles: ['admin'] } }, { sub: 'root-1' });
    assert.equal((await postGoal(app, bearer(admin))).statusCode, 202);
    assert.equal(jwksHits > 0, true, 'keys came from the issuer');
  } finally {
    await app.close();
  }
});

test('token mode: the right bearer token passes, a wrong or missing one is 401; settings are checked', async () => {
  const token = 'correct-horse-battery-staple-42';
  const app = api(apiAuthFromConfig(loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: token })));
  try {
    assert.equal((await app.inject({ url: '/runs', headers: bearer(token) })).statusCode, 200);
    const ok = await postGoal(app, bearer(token));
    assert.equal(ok.statusCode, 202);
    assert.equal((await getRun(db.pool, ok.json().runId))?.startedBy, 'token:token');
    assert.equal((await app.inject({ url: '/runs', headers: bearer(token + 'x') })).statusCode, 401);
    assert.equal((await app.inject({ url: '/runs', headers: bearer('short') })).statusCode, 401);
    assert.equal((await postGoal(app)).statusCode, 401);
  } finally {
    await app.close();
  }
  const bad = (env: Record<string, string>) => {
    try {
      apiAuthFromConfig(loadConfig(env));
      return undefined;
    } catch (e) {
      return e;
    }
  };
  const short = bad({ DFA_API_AUTH: 'token', DFA_API_TOKEN: 'abc' });
  assert.ok(isDfaError(short, 'CONFIG_INVALID'));
  assert.ok(isDfaError(bad({ DFA_API_AUTH: 'oidc', DFA_API_OIDC_ISSUER: issuer }), 'CONFIG_INVALID'));
  const open = bad({ DFA_API_AUTH: 'none', DFA_API_HOST: '0.0.0.0' });
  assert.ok(isDfaError(open, 'CONFIG_INVALID'));
  assert.equal(exitCodeFor(open), 2);
  assert.equal(bad({ DFA_API_AUTH: 'none', DFA_API_HOST: '::1' }), undefined);
});

test('dfa serve with DFA_API_AUTH=none on a non-loopback host exits 2 with a one-line reason, before starting anything', async () => {
  const dfa = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
  const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
    const p = execFile(process.execPath, [dfa, 'serve'], { env: { ...process.env, DFA_DATA_DIR: dir, DFA_API_HOST: '0.0.0.0', DFA_API_AUTH: 'none' } }, (_e, _o, stderr) =>
      res({ code: p.exitCode, stderr }),
    );
  });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n').filter((l) => !/npm warn/i.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /DFA_API_AUTH=none is allowed only on loopback/);
});

test('claims: dotted paths, space-separated strings, prefixed role names, highest role wins', () => {
  assert.deepEqual(claimValues({ realm_access: { roles: ['a', 'b'] } }, 'realm_access.roles'), ['a', 'b']);
  assert.deepEqual(claimValues({ scope: 'openid dfa:viewer' }, 'scope'), ['openid', 'dfa:viewer']);
  assert.deepEqual(claimValues({}, 'x.y'), []);
  assert.equal(roleFrom(['dfa:viewer', 'operator']), 'operator');
  assert.equal(roleFrom(['/dfa/admin', 'viewer']), 'admin');
  assert.equal(roleFrom(['nurse']), undefined);
});
