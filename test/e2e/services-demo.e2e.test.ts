/**
 * The agent with its ml_processor and storage_service as separate processes over HTTP: `dfa service
 * storage` and `dfa service ml` (token auth, each its own DFA_DATA_DIR; the ml service reaches the
 * artifacts through the storage service), then `dfa demo` with DFA_STORAGE_SERVICE_URL and DFA_ML_URL.
 * Every job ends as expected, the segmentation ran in the ml service, and the job's artifacts
 * (labels, RTSTRUCT, previews) are in the storage service's store, not the agent's data folder.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../support/ports.ts';

const DFA = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const TOKEN = 'services-e2e-token-0123456789abcdef';
const root = await mkdtemp(join(tmpdir(), 'dfa-services-e2e-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await rm(root, { recursive: true, force: true });
});

async function service(name: string, env: Record<string, string>): Promise<{ url: string; log: () => string }> {
  const port = await freePort();
  const p = spawn(process.execPath, [DFA, 'service', name, '--port', String(port)], {
    env: { ...process.env, DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(p);
  let text = '';
  p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  while (!/Ctrl-C to stop/.test(text)) {
    if (p.exitCode !== null) throw new Error(`dfa service ${name} exited ${p.exitCode}: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, log: () => text };
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('dfa demo through dfa service storage + dfa service ml over HTTP: every job as expected, artifacts in the storage service', async () => {
  const storage = await service('storage', { DFA_DATA_DIR: join(root, 'storage') });
  const ml = await service('ml', { DFA_DATA_DIR: join(root, 'ml'), DFA_STORAGE_SERVICE_URL: storage.url, DFA_SERVICE_TOKEN: TOKEN });
  const env = { ...process.env, DFA_DATA_DIR: join(root, 'agent'), DFA_STORAGE_SERVICE_URL: storage.url, DFA_ML_URL: ml.url, DFA_SERVICE_TOKEN: TOKEN };
  const { stdout } = await promisify(execFile)(process.execPath, [DFA, 'demo', '--studies', '1', '--size', '128', '--slices', '48', '--data-dir', join(root, 'agent', 'demo')], { env, maxBuffer: 1 << 24 });
  assert.match(stdout, /every job ended as expected/);
  assert.match(stdout, /CT chest #1.*: succeeded/);
  assert.match(ml.log(), /segmented .*model=classical-lung@/, 'the ml service segmented');
  const stored = await files(join(root, 'storage', 'artifacts'));
  assert.ok(stored.some((f) => f.endsWith('/out/rtstruct.dcm')), 'RTSTRUCT in the storage service');
  assert.ok(stored.some((f) => f.endsWith('/labels/labels.rle')), 'labels in the storage service');
  assert.ok(!stored.some((f) => f.includes('/ml/requests/')), 'request volumes removed');
  assert.deepEqual(await files(join(root, 'agent', 'demo', 'artifacts')), [], "nothing in the agent's local store");
  assert.deepEqual(await files(join(root, 'ml', 'artifacts')), [], "nothing in the ml service's local store");
});
