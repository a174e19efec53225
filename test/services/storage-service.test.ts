import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { startService } from '../../src/services/service-server.ts';
import { storageService } from '../../src/services/storage.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';

/** The storage_service's own HTTP face, by raw requests (the remote adapter checks keys before sending; the service must too). */
const TOKEN = 'storage-service-token-0123456789';

test('storage_service: token required, keys checked by the service itself, bodies bounded, OpenAPI lists the routes', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-storage-svc-'));
  const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
  const s = await startService(storageService({ store: new LocalArtifactStore(join(root, 'store')), maxObjectBytes: 4096 }), cfg, { host: '127.0.0.1', port: 0, version: 't', log: memoryLogger('warn') });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const put = (key: string, body: Uint8Array, headers: Record<string, string> = auth) =>
    fetch(`${s.url}/artifact?key=${encodeURIComponent(key)}`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: body as Uint8Array<ArrayBuffer> });
  try {
    assert.equal((await put('a/b', new Uint8Array(3), {})).status, 401);
    assert.equal((await fetch(`${s.url}/artifact?key=a/b`)).status, 401);
    assert.equal((await put('a/b', new Uint8Array(3))).status, 200);
    const got = await fetch(`${s.url}/artifact?key=a/b`, { headers: auth });
    assert.equal(got.headers.get('content-type'), 'application/octet-stream');
    assert.equal((await got.arrayBuffer()).byteLength, 3);

    for (const bad of ['../../escape', 'a/../../../escape', '/etc/passwd', 'C:\\x', 'a//b', 'a/./b', 'nul\u0000byte']) {
      const r = await put(bad, new Uint8Array(1));
      assert.equal(r.status, 400, bad);
      assert.equal(((await r.json()) as { error: string }).error, 'ARTIFACT_KEY_INVALID', bad);
      assert.equal((await fetch(`${s.url}/artifact?key=${encodeURIComponent(bad)}`, { headers: auth })).status, 400, `GET ${bad}`);
    }
    assert.deepEqual(await readdir(root), ['store'], 'nothing was written beside the store');
    const del = await fetch(`${s.url}/artifacts?prefix=`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 400, 'removing everything at once is refused');

    assert.equal((await put('big', new Uint8Array(5000))).status, 413);
    const wrongType = await fetch(`${s.url}/artifact?key=a/c`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrongType.status, 400);

    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/artifact', '/artifact/exists', '/artifacts', '/health', '/ready']);
    assert.deepEqual(Object.keys(doc.paths['/artifact']!).sort(), ['get', 'put']);
    assert.equal((await fetch(`${s.url}/ready`)).status, 200);
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});
