import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './src/core/config.ts';
import { memoryLogger } from './src/core/log.ts';
import { RemoteArtifactStore } from './src/remote/artifacts.ts';
import { ServiceClient } from './src/remote/service-client.ts';
import { startService } from './src/services/service-server.ts';
import { storageService } from './src/services/storage.ts';
import { LocalArtifactStore } from './src/storage/local-artifacts.ts';
import { eachLimit } from './src/core/each-limit.ts';
const root = await mkdtemp(join(tmpdir(), 'mb-'));
const s = await startService(storageService({ store: new LocalArtifactStore(join(root, 'served')), maxObjectBytes: 1 << 30 }), loadConfig({}), { host: '127.0.0.1', port: 0, version: 't', log: memoryLogger('warn') });
const client = new ServiceClient({ service: 'storage', baseUrl: s.url });
const a = new RemoteArtifactStore(client, join(root, 'a'));
const d = await a.dir('p/input');
for (let i = 0; i < 300; i++) await writeFile(join(d, `${i}.dcm`), Buffer.alloc(524_800, i));
const keys = Array.from({ length: 300 }, (_, i) => `p/input/${i}.dcm`);
for (let r = 0; r < 3; r++) {
  let t = performance.now(); await a.commit('p/input'); const tc = performance.now() - t;
  const b = new RemoteArtifactStore(client, join(root, `b${r}`));
  t = performance.now(); await b.dir('p/input'); const td = performance.now() - t;
  t = performance.now(); await eachLimit(keys, 8, async (k) => { await client.call('PUT', '/artifact', { query: { key: k }, bytes: await readFile(join(d, k.slice(8))) }); }); const tp = performance.now() - t;
  t = performance.now(); await eachLimit(keys, 8, async (k) => { await writeFile(join(root, `x${k.replaceAll('/', '_')}`), await b.get(k)); }); const tg = performance.now() - t;
  console.log(`bundle commit ${tc.toFixed(0)} dir ${td.toFixed(0)} | per-file put ${tp.toFixed(0)} get ${tg.toFixed(0)}`);
}
await s.close(); await rm(root, { recursive: true, force: true });
