import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSegmenter, segmenterRegistry } from '../../src/agent/segmenters.ts';
import { loadConfig } from '../../src/core/config.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { generateChestPhantom } from '../../src/dicom/phantom/index.ts';
import { loadModelRegistry, modelDirOf } from '../../src/ml/registry.ts';
import { segmenterContract } from './segmenter.contract.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteMl } from '../../src/remote/ml.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { mlService } from '../../src/services/ml.ts';
import { startService } from '../../src/services/service-server.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';

/**
 * The Segmenter contract on the shipped classical model in process and through an ml_processor
 * over real HTTP (token auth; volume and labels by key through a store both sides share), and the
 * job's SegmentWithQc giving the same outcome both ways.
 */
const TOKEN = 'contract-ml-token-0123456789abc';
const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
const log = memoryLogger('warn');
const root = await mkdtemp(join(tmpdir(), 'dfa-ml-contract-'));
const store = new LocalArtifactStore(join(root, 'artifacts'));
const served = segmenterRegistry(cfg, log);
const service = await startService(
  mlService({ store, segment: served.segment, models: () => loadModelRegistry(modelDirOf(cfg)), log }),
  cfg,
  { host: '127.0.0.1', port: 0, version: 'test', log },
);
const remote = new RemoteMl({ replicas: [new ServiceClient({ service: 'ml_processor', baseUrl: service.url, auth: bearerAuth(TOKEN) })], store, log });
const local = segmenterRegistry(cfg, log);
after(async () => {
  await service.close();
  await served.close();
  await local.close();
  await rm(root, { recursive: true, force: true });
});

segmenterContract('classical, in process', () => createSegmenter('classical', cfg, log), { minDice: 0.95 });
segmenterContract('classical, via ml_processor over HTTP', () => remote.segmenter('classical-lung'), { minDice: 0.95 });

test('SegmentWithQc: the same labels, QC, volumes and manifest in process and through the ml_processor; nothing left in the store', async () => {
  const p = generateChestPhantom({ size: 128, slices: 64, seed: 5 });
  const a = await local.segment(p.volume, 'classical');
  const b = await remote.segment(p.volume, 'classical');
  assert.ok(Buffer.compare(a.labels.data, b.labels.data) === 0, 'labels differ');
  assert.deepEqual(b.labels.dims, a.labels.dims);
  assert.deepEqual(b.qc, a.qc);
  assert.deepEqual(b.volumesMl, a.volumesMl);
  assert.deepEqual(b.manifest, a.manifest);
  assert.deepEqual(await store.list('ml'), [], 'the request volume and labels are removed afterwards');
});
