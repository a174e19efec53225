import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startFhirServer, type FhirServer } from '../../fhir/dev-server/server.ts';
import type { DevServerAuth } from '../../fhir/dev-server/token-service.ts';
import { freePort } from '../../../test/support/ports.ts';
import { main } from '../main.ts';

// `dfa fhir` and `dfa register` through main(): real dev FHIR server, real embedded PACS.
let server: FhirServer;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-fhir-cli-'));
  server = await startFhirServer({ auth: { bearerTokens: ['cli-token'] } });
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function dfa(args: string[], env: Record<string, string>): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), env: { DFA_DATA_DIR: join(dir, 'data'), DFA_LOG_LEVEL: 'error', ...env } });
  return { code, out };
}

test('fhir check: ok with the right token, exit 2 (auth) with a wrong one', async () => {
  const ok = await dfa(['fhir', 'check'], { DFA_FHIR_URL: server.url, DFA_FHIR_AUTH: 'bearer', DFA_FHIR_TOKEN: 'cli-token' });
  assert.equal(ok.code, 0);
  assert.match(ok.out.join('\n'), /FHIR 4\.0\.1, auth bearer ok/);
  const bad = await dfa(['fhir', 'check'], { DFA_FHIR_URL: server.url, DFA_FHIR_AUTH: 'bearer', DFA_FHIR_TOKEN: 'wrong' });
  assert.equal(bad.code, 2);
});

test('register: phantom stored in the embedded PACS becomes a registered ImagingStudy, once', async () => {
  const env = { DFA_FHIR_URL: server.url, DFA_FHIR_AUTH: 'bearer', DFA_FHIR_TOKEN: 'cli-token', DFA_SCP_PORT: String(await freePort()) };
  assert.equal((await dfa(['phantom', '--out', join(dir, 'ph'), '--size', '32', '--slices', '8', '--patient-id', 'CLI-P1'], env)).code, 0);
  assert.equal((await dfa(['store', join(dir, 'ph', 'dicom')], env)).code, 0);
  const first = await dfa(['register', '--all', '--order', '--json'], env);
  assert.equal(first.code, 0);
  const r = JSON.parse(first.out[0] ?? '{}') as { results: { studyInstanceUid: string; result?: { created: boolean; imagingStudy: string } }[] };
  assert.equal(r.results.length, 1);
  assert.equal(r.results[0]?.result?.created, true);
  const again = await dfa(['register', r.results[0]!.studyInstanceUid], env);
  assert.equal(again.code, 0);
  assert.match(again.out[0] ?? '', /\(updated\)/);
  const search = await dfa(['fhir', 'search', 'ImagingStudy', 'status=registered'], env);
  assert.equal(search.out.length, 1);
  const missing = await dfa(['register', '1.2.3.4.5.6.7'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.out[0] ?? '', /FAILED .*not found in the PACS/);
});

test('fhir check without DFA_FHIR_URL uses the embedded dev server under DFA_DATA_DIR', async () => {
  const r = await dfa(['fhir', 'check'], {});
  assert.equal(r.code, 0);
  assert.match(r.out.join('\n'), /\[embedded dev FHIR\]/);
});

test('fhir contract: every check passes against the dev server (with auth)', async () => {
  const r = await dfa(['fhir', 'contract'], { DFA_FHIR_URL: server.url, DFA_FHIR_AUTH: 'bearer', DFA_FHIR_TOKEN: 'cli-token' });
  assert.equal(r.code, 0, r.out.join('\n'));
  assert.match(r.out.at(-1) ?? '', /(\d+)\/\1 contract checks passed/);
});

test('fhir keygen → a dev server with that auth.json → SMART backend contract passes', async () => {
  const keys = join(dir, 'keys');
  for (const alg of ['RS384', 'ES384']) {
    assert.equal((await dfa(['fhir', 'keygen', '--out', keys, '--client-id', 'agent', '--alg', alg], {})).code, 0);
    const auth = JSON.parse(await readFile(join(keys, 'auth.json'), 'utf8')) as DevServerAuth;
    const smart = await startFhirServer({ auth });
    try {
      const env = { DFA_FHIR_URL: smart.url, DFA_FHIR_AUTH: 'smart-backend', DFA_FHIR_TOKEN_URL: smart.tokenUrl, DFA_FHIR_CLIENT_ID: 'agent', DFA_FHIR_PRIVATE_KEY: join(keys, 'private-key.pem') };
      const r = await dfa(['fhir', 'contract'], env);
      assert.equal(r.code, 0, r.out.join('\n'));
      assert.equal((await dfa(['fhir', 'check'], { ...env, DFA_FHIR_CLIENT_ID: 'someone-else' })).code, 2);
    } finally {
      await smart.stop();
    }
  }
});
