import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { ArtifactStore } from '../core/ports.ts';
import { parseStorageUrl } from '../core/storage-url.ts';
import { LocalArtifactStore } from './local-artifacts.ts';
import { S3ArtifactStore } from './s3-artifacts.ts';

/** An artifact store and the local directory its files are read from (the SCP inbox lives there too). */
export type ConfiguredArtifactStore = ArtifactStore & { readonly root: string; readonly location: string };

type StorageConfig = Pick<
  Config,
  'DFA_DATA_DIR' | 'DFA_STORAGE_URL' | 'DFA_S3_ENDPOINT' | 'DFA_S3_REGION' | 'DFA_S3_FORCE_PATH_STYLE' | 'DFA_S3_ACCESS_KEY_ID' | 'DFA_S3_SECRET_ACCESS_KEY'
>;

/**
 * The artifact store DFA_STORAGE_URL names: local disk (default DFA_DATA_DIR/artifacts), or S3 with
 * DFA_DATA_DIR/artifacts as the local working copy. Credentials go to the SDK only; `location`
 * (for logs and the startup banner) never holds them.
 */
export function artifactStoreFromConfig(cfg: StorageConfig): ConfiguredArtifactStore {
  const where = parseStorageUrl(cfg.DFA_STORAGE_URL);
  if (typeof where === 'string') throw new DfaError('CONFIG_INVALID', `DFA_STORAGE_URL: ${where}`);
  const cache = join(cfg.DFA_DATA_DIR, 'artifacts');
  if (where.kind === 'local') {
    return new LocalArtifactStore(where.root ?? cache);
  }
  const client = new S3Client({
    region: cfg.DFA_S3_REGION,
    ...(cfg.DFA_S3_ENDPOINT ? { endpoint: cfg.DFA_S3_ENDPOINT } : {}),
    forcePathStyle: cfg.DFA_S3_FORCE_PATH_STYLE,
    ...(cfg.DFA_S3_ACCESS_KEY_ID && cfg.DFA_S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: cfg.DFA_S3_ACCESS_KEY_ID, secretAccessKey: cfg.DFA_S3_SECRET_ACCESS_KEY } }
      : {}),
  });
  return new S3ArtifactStore({ client, bucket: where.bucket, prefix: where.prefix, cacheDir: resolve(cache) });
}
