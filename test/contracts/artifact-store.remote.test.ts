import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteArtifactStore } from '../../src/remote/artifacts.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { startService } from '../../src/services/service-server.ts';
import { storageService } from '../../src/services/storage.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';
import { artifactStoreContract } from './artifact-store.contract.ts';

/**
 * The ArtifactStore contract through the storage_service over real HTTP (token auth) — the
 * in-process stores run it from src/storage (local disk, S3). "Another machine" is a second
 * remote adapter on the same service with its own empty working copy.
 */
const TOKEN = 'contract-storage-token-0123456789';

artifactStoreContract('storage_service (remote adapter, HTTP)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-remote-store-'));
  const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
  const s = await startService(storageService({ store: new LocalArtifactStore(join(root, 'served')), maxObjectBytes: 64 * 1024 * 1024 }), cfg, {
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: memoryLogger('warn'),
  });
  const client = new ServiceClient({ service: 'storage_service', baseUrl: s.url, auth: bearerAuth(TOKEN) });
  let copies = 0;
  return {
    store: new RemoteArtifactStore(client, join(root, `copy-${copies++}`)),
    otherMachine: async () => new RemoteArtifactStore(client, join(root, `copy-${copies++}`)),
    close: async () => {
      await s.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});
