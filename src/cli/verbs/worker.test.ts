/**
 * `dfa worker` as a user starts it: a real process on a real PostgreSQL (DFA_DATABASE_URL), its
 * PACS and FHIR the embedded dev servers under its own DFA_DATA_DIR. It starts, says so, stops
 * cleanly on SIGTERM (exit 0). A second process on the same embedded database is refused clearly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../test/support/ports.ts';
import { startPostgres } from '../../../test/support/postgres.ts';

const DFA = fileURLToPath(new URL('../../../bin/dfa.js', import.meta.url));

function dfa(args: string[], env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [DFA, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; err: string }>((res) => p.once('exit', (code) => res({ code, err })));
  const said = async (re: RegExp) => {
    while (!re.test(err)) {
      if (p.exitCode !== null) throw new Error(`dfa ${args.join(' ')} exited ${p.exitCode}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { p, exited, said, text: () => err };
}

test('dfa worker starts on DFA_DATABASE_URL, stops on SIGTERM with exit 0', async () => {
  const pg = await startPostgres();
  const root = await mkdtemp(join(tmpdir(), 'dfa-worker-verb-'));
  let w: ReturnType<typeof dfa> | undefined;
  try {
    w = dfa(['worker', '--concurrency', '2'], { DFA_DATABASE_URL: pg.url, DFA_DATA_DIR: root, DFA_SCP_PORT: String(await freePort()) });
    await w.said(/worker started.*concurrency=2/);
    assert.doesNotMatch(w.text(), /secret|password/i);
    w.p.kill('SIGTERM');
    const { code, err } = await w.exited;
    assert.equal(code, 0, err);
    assert.match(err, /worker stopping/);
  } finally {
    if (w && w.p.exitCode === null) {
      w.p.kill('SIGKILL');
      await w.exited;
    }
    await pg.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('a second process on the same embedded database is refused with the holder named', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-worker-lock-'));
  let w: ReturnType<typeof dfa> | undefined;
  try {
    const env = { DFA_DATA_DIR: root, DFA_SCP_PORT: String(await freePort()) };
    w = dfa(['worker'], env);
    await w.said(/worker started/);
    const j = dfa(['jobs'], env);
    const r = await j.exited;
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`in use by process ${w.p.pid}`));
    w.p.kill('SIGTERM');
    assert.equal((await w.exited).code, 0);
    // Once the worker has stopped, the database is free again.
    const again = dfa(['jobs'], env);
    assert.equal((await again.exited).code, 0);
  } finally {
    if (w && w.p.exitCode === null) {
      w.p.kill('SIGKILL');
      await w.exited;
    }
    await rm(root, { recursive: true, force: true });
  }
});
