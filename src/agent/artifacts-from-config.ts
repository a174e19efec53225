import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { RemoteArtifactStore } from '../remote/artifacts.ts';
import { serviceClientAuth, ServiceClient } from '../remote/service-client.ts';
import { artifactStoreFromConfig, type ConfiguredArtifactStore } from '../storage/artifacts-from-config.ts';

/**
 * The artifact store the agent (and a service that reads the agent's artifacts, such as the
 * ml_processor) works on: the storage_service when DFA_STORAGE_SERVICE_URL is set — every process
 * pointed at it shares its artifacts — else the store DFA_STORAGE_URL names (local disk under
 * DFA_DATA_DIR, or S3), in process. `dfa service storage` itself serves the latter (it never calls
 * itself). Processes that hand each other artifact keys (the agent and the ml_processor) must share
 * a store: the same local folder, the same S3 bucket and prefix, or the same storage service.
 */
export function agentArtifactStore(cfg: Config): ConfiguredArtifactStore {
  if (cfg.DFA_STORAGE_SERVICE_URL) {
    const client = new ServiceClient({ service: 'storage_service', baseUrl: cfg.DFA_STORAGE_SERVICE_URL, auth: serviceClientAuth(cfg), timeoutMs: cfg.DFA_SERVICE_TIMEOUT_MS });
    return new RemoteArtifactStore(client, join(cfg.DFA_DATA_DIR, 'artifact-cache'));
  }
  return artifactStoreFromConfig(cfg);
}
