import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { FhirClient } from '../fhir/client.ts';
import { startFhirServer } from '../fhir/dev-server/server.ts';
import { registerStudy } from '../fhir/register-study.ts';
import { FakePacs, fakeStudy } from '../../test/support/fake-pacs.ts';
import { main } from './main.ts';
import type { Verb } from './verb.ts';

// The CLI's contract with people: exit codes, --help, --version, config errors, empty states.
const BIN = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const VERBS = fileURLToPath(new URL('./verbs/', import.meta.url));

function spawnDfa(args: string[], env: Record<string, string> = {}, node = process.execPath) {
  const r = spawnSync(node, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function inProc(args: string[], env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  const code = await main(args, { out: (s) => lines.push(s), env, config: loadConfig(env) });
  return { code, out: lines.join('\n') };
}

test('--help on every verb exits 0 and lists its flags; dfa --version', async () => {
  const verbs = (await readdir(VERBS)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3));
  assert.ok(verbs.length >= 15);
  for (const v of verbs) {
    const r = await inProc([v, '--help']);
    assert.equal(r.code, 0, `${v} --help`);
    assert.match(r.out, new RegExp(`^dfa ${v} — `), v);
    assert.match(r.out, /flags:\n(.|\n)*--help/, `${v} lists its flags`);
  }
  assert.match((await inProc(['run', '--help'])).out, /--dry-run(.|\n)*--show-phi/);
  const ver = await inProc(['--version']);
  assert.equal(ver.code, 0);
  assert.match(ver.out, /^dfa \d+\.\d+\.\d+/);
});

test("every verb's flag declaration is well formed, and its usage examples use only flags it declares", async () => {
  for (const f of (await readdir(VERBS)).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
    const name = f.slice(0, -3);
    const { verb } = (await import(new URL(`./verbs/${f}`, import.meta.url).href)) as { verb: Verb };
    const decls = verb.flags ?? {};
    for (const [flag, d] of Object.entries(decls)) {
      assert.match(flag, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${name} --${flag}`);
      if (d.type === 'string') assert.match(d.value, /^[^<>\s]+$/, `${name} --${flag} <${d.value}>`);
    }
    for (const u of verb.usage) {
      const after = u.split(`dfa ${name}`)[1]?.split(/\s#\s/)[0] ?? '';
      for (const m of after.matchAll(/(?:^|[\s[])--([a-z][\w-]*)/g)) assert.ok(Object.hasOwn(decls, m[1]!), `${name}: usage '${u}' uses --${m[1]}, not declared`);
    }
  }
});

test('unknown options exit 2 with the usage; a missing file is a typed error, exit 2', () => {
  const r = spawnDfa(['run', '--bogus', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '--bogus'/);
  assert.match(r.err, /flags:/);
  const missing = spawnDfa(['segment', '/nonexistent/ct-folder']);
  assert.equal(missing.code, 2, missing.err);
  assert.match(missing.err, /FILE_NOT_FOUND|no such file/);
  assert.doesNotMatch(missing.err, /at .*\.ts:\d+/, 'no stack trace');
});

test('Node older than 24 gets one line saying how to run it', () => {
  const r = spawnDfa(['--version'], {}, '/usr/bin/node');
  assert.equal(r.code, 2);
  assert.match(r.err, /needs Node\.js 24.*npx dfa.*install Node 24/);
  assert.equal(r.err.trim().split('\n').length, 1);
});

test('configuration: misspelt DFA_* warned with the nearest name; bad values echoed with what is allowed', () => {
  const typo = spawnDfa(['plan', 'contour the lungs on pending CT'], { DFA_SEGMNETER: 'onnx' });
  assert.equal(typo.code, 0, typo.err);
  assert.match(typo.err, /unknown setting DFA_SEGMNETER \(did you mean DFA_SEGMENTER\?\)/);
  const port = spawnDfa(['plan', 'contour the lungs'], { DFA_PACS_PORT: 'abc' });
  assert.equal(port.code, 2);
  assert.match(port.err, /DFA_PACS_PORT='abc' is not allowed: a whole number from 1 to 65535/);
  assert.doesNotMatch(port.err, /NaN/);
  const unet = spawnDfa(['plan', 'contour the lungs on pending CT'], { DFA_SEGMENTER: 'unet' });
  assert.equal(unet.code, 2);
  assert.match(unet.err, /MODEL_NOT_INSTALLED: .*DFA_SEGMENTER='unet' is not allowed: one of/);
});

test('plan: refusals with --json are JSON on stdout (exit 2); human output has no raw JSON', async () => {
  const r = await inProc(['plan', '--json', 'do not segment the lungs']);
  assert.equal(r.code, 2);
  const j = JSON.parse(r.out) as { refused: boolean; missing: string[] };
  assert.equal(j.refused, true);
  assert.match(j.missing.join(' '), /do not segment/);
  const h = await inProc(['plan', 'contour the lungs on pending CT for patient 123']);
  assert.equal(h.code, 0);
  assert.doesNotMatch(h.out, /[{}]|undefined/);
  assert.match(h.out, /patient 123/);
});

test('empty states say what to do next; phantom --out refuses a used folder unless --force', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-contract-'));
  try {
    const env = { DFA_DATA_DIR: join(dir, 'data') };
    const runs = await inProc(['jobs', '--runs'], env);
    assert.equal(runs.code, 0);
    assert.match(runs.out, /No runs yet.*npx dfa run/);
    assert.match((await inProc(['jobs'], env)).out, /No jobs yet/);
    const out = join(dir, 'ph');
    assert.equal((await inProc(['phantom', '--out', out, '--size', '32', '--slices', '6'])).code, 0);
    const dcm = async () => (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.dcm')).length;
    const first = await dcm();
    assert.equal((await inProc(['phantom', '--out', out, '--size', '32', '--slices', '4'])).code, 2);
    assert.equal((await inProc(['phantom', '--out', out, '--size', '32', '--slices', '4', '--force'])).code, 0);
    assert.equal(await dcm(), 4, `old slices removed (had ${first})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('e2e dry run with two patients: the patient-named goal selects only that patient, MRN masked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-dry-'));
  const server = await startFhirServer({ dataDir: join(dir, 'fhir'), host: '127.0.0.1', port: 0 });
  try {
    const fhir = new FhirClient({ baseUrl: server.url });
    const pacs = new FakePacs([
      fakeStudy('1.2.826.0.1.3680043.8.498.901', 'MRN-1234567', 'CT', { accession: 'ACC901', date: '20261124', name: 'Doe^Jane' }),
      fakeStudy('1.2.826.0.1.3680043.8.498.902', 'MRN-7654321', 'CT', { accession: 'ACC902', date: '20261125', name: 'Roe^Richard' }),
    ]);
    for (const s of pacs.studies) await registerStudy(fhir, pacs, s.studyInstanceUid);
    const env = { DFA_FHIR_URL: server.url, DFA_DATA_DIR: join(dir, 'data'), DFA_LOG_LEVEL: 'error' };
    const all = await inProc(['run', '--dry-run', '--json', 'contour the lungs on pending CT'], env);
    assert.equal(all.code, 0, all.out);
    assert.equal((JSON.parse(all.out) as { studies: unknown[] }).studies.length, 2);
    const jane = await inProc(['run', '--dry-run', 'contour the lungs on pending CT for patient Jane Doe'], env);
    assert.equal(jane.code, 0, jane.out);
    assert.match(jane.out, /Would process 1 study/);
    assert.match(jane.out, /patient \*\*\*4567 \(D\. J\.\), accession ACC901, 2026-11-24/);
    assert.doesNotMatch(jane.out, /ACC902|MRN-1234567/);
    const phi = await inProc(['run', '--dry-run', '--show-phi', 'contour the lungs for patient Doe^Jane'], env);
    assert.match(phi.out, /patient MRN-1234567 \(Doe, Jane\)/);
    const none = await inProc(['run', '--dry-run', 'contour the lungs for patient Nobody Here'], env).catch((e: unknown) => e);
    assert.equal((none as { code: number }).code, 2);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
