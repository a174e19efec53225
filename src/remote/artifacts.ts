import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { checkArtifactKey, checkArtifactPrefix } from '../core/artifact-key.ts';
import { eachLimit } from '../core/each-limit.ts';
import { filesBelow } from '../io/files-below.ts';
import type { ArtifactStore } from '../core/ports.ts';
import type { ServiceClient } from './service-client.ts';

/** Uploads / downloads at once in dir() and commit(): one at a time pays a loopback round trip per DICOM file. */
const PARALLEL = 8;

/**
 * The ArtifactStore port on a storage_service (DFA_STORAGE_SERVICE_URL; src/services/storage.ts).
 * get/put/exists/list/remove are HTTP calls, so every process pointed at the same service sees the
 * same artifacts. The port's local side is a working copy under `cacheDir`
 * (DFA_DATA_DIR/artifact-cache), as the S3 store keeps one:
 *  - `dir(prefix)` fetches what is stored under the prefix into the copy and returns its folder;
 *  - files a step writes there (a retrieve's DICOM input) reach the service on `commit(prefix)`;
 *  - `put` also writes the bytes into the copy and returns that path (callers hand it to a PACS).
 */
export class RemoteArtifactStore implements ArtifactStore {
  readonly client: ServiceClient;
  readonly cacheDir: string;
  /** Largest object in one call (default 10 min: a 157 MB volume on a slow link). */
  private readonly objectTimeoutMs: number;

  constructor(client: ServiceClient, cacheDir: string, o: { objectTimeoutMs?: number } = {}) {
    this.client = client;
    this.cacheDir = resolve(cacheDir);
    this.objectTimeoutMs = o.objectTimeoutMs ?? 600_000;
  }

  /** The local working copy (the SCP inbox lives there too). */
  get root(): string {
    return this.cacheDir;
  }

  /** Where the artifacts are, for logs (no credentials). */
  get location(): string {
    return this.client.where;
  }

  private local(key: string): string {
    const p = resolve(this.cacheDir, key);
    if (p !== this.cacheDir && !p.startsWith(this.cacheDir + sep)) throw new Error(`unreachable: checked key escapes the cache: ${key}`);
    return p;
  }

  async dir(prefix: string): Promise<string> {
    const d = this.local(checkArtifactPrefix(prefix, false));
    await mkdir(d, { recursive: true });
    const have = new Set(await localFiles(d, prefix));
    const missing = (await this.list(prefix)).filter((key) => !have.has(key));
    await eachLimit(missing, PARALLEL, async (key) => writeAtomic(this.local(key), await this.get(key)));
    return d;
  }

  /** Uploads every file in the working copy under `prefix` (again is harmless: same bytes, same keys). */
  async commit(prefix: string): Promise<void> {
    const d = this.local(checkArtifactPrefix(prefix, false));
    await eachLimit(await localFiles(d, prefix), PARALLEL, async (key) => {
      await this.client.call('PUT', '/artifact', { query: { key: checkArtifactKey(key) }, bytes: await readFile(this.local(key)), timeoutMs: this.objectTimeoutMs });
    });
  }

  async put(key: string, data: Uint8Array): Promise<string> {
    await this.client.call('PUT', '/artifact', { query: { key: checkArtifactKey(key) }, bytes: data, timeoutMs: this.objectTimeoutMs });
    const p = this.local(key);
    await writeAtomic(p, data);
    return p;
  }

  async get(key: string): Promise<Uint8Array> {
    return (await this.client.call('GET', '/artifact', { query: { key: checkArtifactKey(key) }, timeoutMs: this.objectTimeoutMs })).body;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.json<{ exists: boolean }>('GET', '/artifact/exists', { query: { key: checkArtifactKey(key) } })).exists;
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.client.json<{ keys: string[] }>('GET', '/artifacts', { query: { prefix: checkArtifactPrefix(prefix, true) } })).keys;
  }

  async remove(prefix: string): Promise<void> {
    await this.client.call('DELETE', '/artifacts', { query: { prefix: checkArtifactPrefix(prefix, false) } });
    await rm(this.local(prefix), { recursive: true, force: true });
  }

  /** Drops the working copy under a prefix (never everything); the service keeps the artifacts. */
  async release(prefix: string): Promise<void> {
    await rm(this.local(checkArtifactPrefix(prefix, false)), { recursive: true, force: true });
  }
}

async function writeAtomic(p: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(p), { recursive: true });
  const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, p);
}

/** Keys of the files already in a local folder (prefix-relative paths joined to the prefix). */
/** Keys of the files in the working copy under `prefix` (its folder `d`). */
async function localFiles(d: string, prefix: string): Promise<string[]> {
  const base = prefix.replace(/\/+$/, '');
  return (await filesBelow(d)).map((rel) => `${base}/${rel}`);
}
