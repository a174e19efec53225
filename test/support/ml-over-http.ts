import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmenterRegistry } from '../../src/agent/segmenters.ts';
import { loadConfig, type Config } from '../../src/core/config.ts';
import { memoryLogger, type Logger } from '../../src/core/log.ts';
import { loadVolume } from '../../src/dicom/volume/index.ts';
import { loadModelRegistry, modelDirOf } from '../../src/ml/registry.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteMl } from '../../src/remote/ml.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { mlService } from '../../src/services/ml.ts';
import { startService } from '../../src/services/service-server.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';

/**
 * An ml_processor in this process behind its real HTTP API (token auth), the RemoteMl adapter that
 * calls it, and an in-process segmenter registry for the reference outcome — one artifact store
 * both sides share. For the contract tests that run a port in process and through the service.
 */
export interface MlOverHttp {
  readonly cfg: Config;
  readonly log: Logger;
  readonly store: LocalArtifactStore;
  readonly remote: RemoteMl;
  /** SegmentWithQc in this process (not the service's own registry). */
  readonly local: ReturnType<typeof segmenterRegistry>;
  close(): Promise<void>;
}

/** `readsDicom`: the service loads volumes from DICOM keys (loadVolume), as `dfa service ml` does. */
export async function startMlOverHttp(o: { tmpPrefix: string; readsDicom?: boolean }): Promise<MlOverHttp> {
  const token = 'contract-ml-token-0123456789abc';
  const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: token });
  const log = memoryLogger('warn');
  const root = await mkdtemp(join(tmpdir(), o.tmpPrefix));
  const store = new LocalArtifactStore(join(root, 'artifacts'));
  const served = segmenterRegistry(cfg, log);
  const local = segmenterRegistry(cfg, log);
  const service = await startService(
    mlService({ store, segment: served.segment, models: () => loadModelRegistry(modelDirOf(cfg)), ...(o.readsDicom ? { loadVolume: (f) => loadVolume(f) } : {}), log }),
    cfg,
    { host: '127.0.0.1', port: 0, version: 'test', log },
  );
  const remote = new RemoteMl({ replicas: [new ServiceClient({ service: 'ml_processor', baseUrl: service.url, auth: bearerAuth(token) })], store, log });
  return {
    cfg,
    log,
    store,
    remote,
    local,
    async close() {
      await service.close();
      await served.close();
      await local.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
