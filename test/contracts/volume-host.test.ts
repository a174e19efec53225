import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalVolumeHost } from '../../src/agent/jobs/local-volume-host.ts';
import { segmenterRegistry } from '../../src/agent/segmenters.ts';
import { loadConfig } from '../../src/core/config.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { loadVolume } from '../../src/dicom/volume/index.ts';
import { loadModelRegistry, modelDirOf } from '../../src/ml/registry.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteMl } from '../../src/remote/ml.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { mlService } from '../../src/services/ml.ts';
import { startService } from '../../src/services/service-server.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';
import { volumeHostContract } from './volume-host.contract.ts';

/**
 * The VolumeHost contract in process (the agent's default) and through an ml_processor over real
 * HTTP (token auth, the store shared). The ml_processor as its own OS process, holding volumes
 * across calls and failing over between replicas: test/services/ml-service.test.ts.
 */
const TOKEN = 'contract-volume-host-0123456789ab';
const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
const log = memoryLogger('warn');
const root = await mkdtemp(join(tmpdir(), 'dfa-volume-host-'));
const store = new LocalArtifactStore(join(root, 'artifacts'));
const served = segmenterRegistry(cfg, log);
const local = segmenterRegistry(cfg, log);
const service = await startService(
  mlService({ store, segment: served.segment, models: () => loadModelRegistry(modelDirOf(cfg)), loadVolume: (f) => loadVolume(f), log }),
  cfg,
  { host: '127.0.0.1', port: 0, version: 'test', log },
);
const remote = new RemoteMl({ replicas: [new ServiceClient({ service: 'ml_processor', baseUrl: service.url, auth: bearerAuth(TOKEN) })], store, log });
after(async () => {
  await service.close();
  await served.close();
  await local.close();
  await rm(root, { recursive: true, force: true });
});

volumeHostContract('in process', 'local', async () => ({ host: new LocalVolumeHost({ store, loadVolume: (f) => loadVolume(f), segment: local.segment }), store, reference: local.segment }));
volumeHostContract('ml_processor over HTTP', 'remote', async () => ({ host: remote.volumes, store, reference: local.segment }));
