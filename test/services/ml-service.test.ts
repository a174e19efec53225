/**
 * The ml_processor as a user starts it: real `dfa service ml` child processes on free loopback
 * ports with token auth, sharing one DFA_DATA_DIR (the artifact store the agent writes volumes to).
 * Its HTTP face (auth, OpenAPI, the shipped models), typed errors through the remote adapter, and
 * two replicas: the one serving a segmentation is SIGKILLed mid-request and the job still gets its
 * labels from the other.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.ts';
import { segmenterRegistry } from '../../src/agent/segmenters.ts';
import { loadConfig } from '../../src/core/config.ts';
import { isDfaError } from '../../src/core/errors.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { saveVolume } from '../../src/agent/jobs/volume-artifacts.ts';
import { generateChestPhantom, writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { loadVolume } from '../../src/dicom/volume/index.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteMl } from '../../src/remote/ml.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';

const DFA = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const TOKEN = 'ml-service-token-0123456789abcdef';
const dataDir = await mkdtemp(join(tmpdir(), 'dfa-ml-svc-'));
const store = new LocalArtifactStore(join(dataDir, 'artifacts')); // what DFA_DATA_DIR gives the services
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

interface Replica {
  readonly url: string;
  readonly p: ChildProcess;
  readonly log: () => string;
}

async function startReplica(): Promise<Replica> {
  const port = await freePort();
  const env = { ...process.env, DFA_DATA_DIR: dataDir, DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN, DFA_LOG_LEVEL: 'info' };
  const p = spawn(process.execPath, [DFA, 'service', 'ml', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let text = '';
  p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  for (;;) {
    if (/Ctrl-C to stop/.test(text)) break;
    if (p.exitCode !== null) throw new Error(`dfa service ml exited ${p.exitCode}: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, p, log: () => text };
}

const client = (url: string, token = TOKEN) => new ServiceClient({ service: 'ml_processor', baseUrl: url, auth: bearerAuth(token) });
const [a, b] = await Promise.all([startReplica(), startReplica()]);

test('dfa service ml: token required, /openapi.json documents /models and /segment, /models lists the shipped models with manifests', async () => {
  assert.equal((await fetch(`${a.url}/health`)).status, 200);
  assert.equal((await fetch(`${a.url}/ready`)).status, 200);
  assert.equal((await fetch(`${a.url}/models`)).status, 401);
  const post = await fetch(`${a.url}/segment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ volumeKey: 'x', model: { name: 'classical' } }) });
  assert.equal(post.status, 401);
  await assert.rejects(client(a.url, 'a-wrong-token-of-some-length').json('GET', '/models'), (e) => isDfaError(e, 'API_UNAUTHENTICATED'));

  const doc = (await (await fetch(`${a.url}/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/models']?.['get']);
  const segmentBody = doc.paths['/segment']?.['post']?.requestBody?.content['application/json']?.schema as { required?: string[]; properties?: Record<string, unknown> };
  assert.deepEqual(segmentBody.required, ['model']);
  assert.ok(segmentBody.properties?.['volumeKey'] && segmentBody.properties['savedVolumeKey'], 'both ways of naming the volume are documented');

  const { models } = await client(a.url).json<{ models: { name: string; version: string; kind: string; manifest: { labels: { roiName: string }[] } }[] }>('GET', '/models');
  const byName = Object.fromEntries(models.map((m) => [m.name, m]));
  assert.equal(byName['classical-lung']?.kind, 'classical');
  assert.equal(byName['lung-unet-2d']?.kind, 'onnx');
  for (const m of models) assert.deepEqual(m.manifest.labels.map((l) => l.roiName).sort(), ['Lung_L', 'Lung_R'], m.name);
});

test('dfa service ml: a missing volume is ARTIFACT_NOT_FOUND, an unknown model MODEL_NOT_INSTALLED, a bad key ARTIFACT_KEY_INVALID', async () => {
  const c = client(a.url);
  await assert.rejects(c.json('POST', '/segment', { json: { volumeKey: 'ml/requests/none', model: { name: 'classical' } } }), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
  await assert.rejects(c.json('POST', '/segment', { json: { volumeKey: '../x', model: { name: 'classical' } } }), (e) => isDfaError(e, 'ARTIFACT_KEY_INVALID'));
  const remote = new RemoteMl({ replicas: [c], store, log: memoryLogger('warn') });
  const small = generateChestPhantom({ size: 64, slices: 32, seed: 2 });
  await assert.rejects(remote.segment(small.volume, 'no-such-model@1'), (e) => isDfaError(e, 'MODEL_NOT_INSTALLED'));
  assert.deepEqual(await store.list('ml'), []);
});

test("a job's saved volume goes by key: the service loads it from the DICOM files in the store (no voxels sent), same labels as in process; opened on one replica, its segment and preview calls go there; a header naming a local path is refused", async () => {
  const dir = await store.dir('jobs/svc-t/input');
  const w = await writePhantomSeries({ size: 64, slices: 32, seed: 4 }, dir, false);
  const keys = (await store.list('jobs/svc-t/input')).filter((k) => k.endsWith('.dcm'));
  assert.equal(keys.length, 32);
  const v = await loadVolume(w.files);
  await saveVolume(store, 'jobs/svc-t/volume', v, keys);
  const from = a.log().length + b.log().length;
  const remote = new RemoteMl({ replicas: [client(a.url), client(b.url)], store, log: memoryLogger('warn') });
  const out = await remote.segment(v, 'classical', { volumeKey: 'jobs/svc-t/volume' });
  assert.match(a.log() + b.log(), /segment request.*jobs\/svc-t\/volume/, 'the request named the saved volume');
  assert.ok(from < a.log().length + b.log().length);
  const local = segmenterRegistry(loadConfig({}), memoryLogger('warn'));
  try {
    const want = await local.segment(v, 'classical');
    assert.ok(Buffer.compare(out.labels.data, want.labels.data) === 0, 'labels differ from in process');
  } finally {
    await local.close();
  }
  assert.deepEqual(await store.list('ml'), [], 'no volume was uploaded, the labels were removed');

  // Opened on one replica (the job's volume step): the segment and preview calls go to that replica
  // and use the volume it holds. (New keys each time: a replica keeps the volumes it loaded last.)
  const logFrom = { a: a.log().length, b: b.log().length };
  const info = await remote.volumes.open('jobs/svc-p/volume', keys);
  assert.deepEqual(info.dims, v.dims);
  const holder = a.log().slice(logFrom.a).includes('volume opened') ? a : b;
  const other = holder === a ? b : a;
  assert.match(holder.log(), /volume opened.*jobs\/svc-p\/volume/);
  const viaOpen = await remote.volumes.segment('jobs/svc-p/volume', info, 'classical', { labelsKey: 'jobs/svc-p/labels' });
  assert.ok(Buffer.compare(viaOpen.labels.data, out.labels.data) === 0, 'the same labels from the opened volume');
  const previews = await remote.volumes.renderPreviews({ volumeKey: 'jobs/svc-p/volume', labelsKey: 'jobs/svc-p/labels', labels: viaOpen.manifest.labels, prefix: 'jobs/svc-p/previews' });
  assert.ok(previews.length >= 7 && previews.every((p) => p.key.startsWith('jobs/svc-p/previews/')));
  const since = holder === a ? logFrom.a : logFrom.b;
  assert.match(holder.log().slice(since), /segment request.*jobs\/svc-p\/volume/, 'the segment call went to the replica holding the volume');
  assert.doesNotMatch(other.log().slice(holder === a ? logFrom.b : logFrom.a), /jobs\/svc-p\/volume/);
  // Keys, not paths; a file the store lacks is named.
  await assert.rejects(client(a.url).json('POST', '/volumes/open', { json: { volumeKey: 'jobs/x/volume', sourceFiles: ['/etc/passwd'] } }), (e) => isDfaError(e, 'ARTIFACT_KEY_INVALID'));
  await assert.rejects(client(a.url).json('POST', '/previews', { json: { volumeKey: 'jobs/svc-p/volume', labelsKey: '../x', labels: viaOpen.manifest.labels, prefix: 'jobs/svc-p/p' } }), (e) => isDfaError(e, 'ARTIFACT_KEY_INVALID'));
  await assert.rejects(client(a.url).json('POST', '/volumes/open', { json: { volumeKey: 'jobs/x/volume', sourceFiles: ['jobs/svc-t/input/none.dcm'] } }), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));

  await saveVolume(store, 'jobs/svc-bad/volume', v, ['/etc/passwd']);
  await assert.rejects(client(a.url).json('POST', '/segment', { json: { savedVolumeKey: 'jobs/svc-bad/volume', model: { name: 'classical' } } }), (e) => isDfaError(e, 'ARTIFACT_KEY_INVALID'));
  await assert.rejects(client(a.url).json('POST', '/segment', { json: { savedVolumeKey: 'jobs/svc-t/volume', volumeKey: 'x', model: { name: 'classical' } } }), /exactly one/);
});

test('two replicas: the one segmenting is SIGKILLed mid-request; the other serves the job, same result as in process', async () => {
  const cfg = loadConfig({});
  const log = memoryLogger('info');
  const remote = new RemoteMl({ replicas: [client(a.url), client(b.url)], store, log });
  const p = generateChestPhantom({ size: 256, slices: 128, seed: 9 });
  const seen = { a: a.log().length, b: b.log().length };
  // Kill whichever replica logs the request first, as soon as it does.
  let killed: Replica | undefined;
  const watch = setInterval(() => {
    for (const [r, from] of [[a, seen.a], [b, seen.b]] as const) {
      if (!killed && r.log().slice(from).includes('segment request')) {
        killed = r;
        r.p.kill('SIGKILL');
      }
    }
  }, 5);
  let out;
  try {
    out = await remote.segment(p.volume, 'classical');
  } finally {
    clearInterval(watch);
  }
  assert.ok(killed, 'a replica took the request');
  assert.ok(!killed.log().slice(killed === a ? seen.a : seen.b).includes('segmented'), 'the killed replica never finished');
  const other = killed === a ? b : a;
  assert.ok(other.log().includes('segmented'), 'the other replica did the work');
  assert.ok(log.lines.some((l) => l.includes('trying another')), 'the adapter failed over');

  const local = segmenterRegistry(cfg, memoryLogger('warn'));
  try {
    const want = await local.segment(p.volume, 'classical');
    assert.ok(Buffer.compare(out.labels.data, want.labels.data) === 0, 'labels differ from in process');
    assert.deepEqual(out.volumesMl, want.volumesMl);
  } finally {
    await local.close();
  }
  // The survivor keeps serving; the dead one is tried last (and fails over again if tried at all).
  const again = await remote.segment(generateChestPhantom({ size: 64, slices: 32, seed: 3 }).volume, 'classical');
  assert.equal(again.manifest.name, 'classical-lung');
  assert.deepEqual(await store.list('ml'), []);
});
