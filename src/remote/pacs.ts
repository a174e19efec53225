import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type {
  ArtifactStore, InstanceRecord, Pacs, RetrieveResult, RetrievedInstance, SeriesRecord, StoredRetrieval, StoreOutcome, StudyQuery, StudyRecord,
} from '../core/ports.ts';
import type { ServiceClient } from './service-client.ts';

/**
 * The PACS through the dicom_handler's HTTP API (DFA_DICOM_URL), as the same `Pacs` port a job
 * uses in process. DICOM data goes by artifact key through the store both sides share: a retrieval
 * lands in the store under a prefix of this call, the answer names the keys, and the files are
 * copied from the store into `destDir` (then the call's prefix is removed); a store request puts
 * the local files under a prefix of its own and sends their keys. PACS faults come back with their
 * own codes (DICOM_*, RETRIEVE_FAILED); the service being down is SERVICE_UNAVAILABLE (transient).
 */
export interface RemotePacsOptions {
  readonly client: ServiceClient;
  readonly store: ArtifactStore;
  readonly log: Logger;
  /** One retrieval (a whole study: minutes on a slow PACS); default 10 min. */
  readonly retrieveTimeoutMs?: number;
}

interface RetrieveAnswer extends StoredRetrieval {
  readonly prefix: string;
}

/** One study the dicom_handler's SCP received and listed (GET /received), files by artifact key. */
export interface RemoteReceivedStudy {
  readonly id: number;
  readonly studyInstanceUid: string;
  readonly callingAets: readonly string[];
  readonly completedAt: string;
  readonly instances: readonly (Omit<RetrievedInstance, 'path'> & { readonly key: string })[];
}

/** Copies of files at once (each read whole: Part 10 files of one instance). */
const PARALLEL = 8;

export class RemotePacs implements Pacs {
  private readonly o: RemotePacsOptions;

  constructor(o: RemotePacsOptions) {
    this.o = o;
  }

  async echo(): Promise<void> {
    await this.o.client.call('POST', '/echo');
  }

  async findStudies(q: StudyQuery): Promise<StudyRecord[]> {
    return (await this.o.client.json<{ studies: StudyRecord[] }>('POST', '/find/studies', { json: q })).studies;
  }

  async findSeries(studyInstanceUid: string, q: { modality?: string } = {}): Promise<SeriesRecord[]> {
    return (await this.o.client.json<{ series: SeriesRecord[] }>('POST', '/find/series', { json: { studyInstanceUid, ...q } })).series;
  }

  async findInstances(studyInstanceUid: string, seriesInstanceUid: string): Promise<InstanceRecord[]> {
    return (await this.o.client.json<{ instances: InstanceRecord[] }>('POST', '/find/instances', { json: { studyInstanceUid, seriesInstanceUid } })).instances;
  }

  /**
   * The retrieval straight into the shared store under `prefix` (a job's input folder): the
   * dicom_handler writes the files there and answers their keys; nothing passes through here.
   */
  async retrieveToStore(req: { studyInstanceUid: string; seriesInstanceUid?: string }, prefix: string): Promise<StoredRetrieval> {
    const a = await this.o.client.json<RetrieveAnswer>('POST', '/retrieve', { json: { ...req, prefix }, timeoutMs: this.o.retrieveTimeoutMs ?? 600_000 });
    for (const { key } of a.instances) {
      const rel = key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1).split('/') : [];
      if (rel.length === 0 || rel.some((s) => s === '' || s === '.' || s === '..')) {
        throw new DfaError('SERVICE_ERROR', `dicom_handler answered a key outside the retrieval's prefix: ${key}`);
      }
    }
    return { method: a.method, instances: a.instances, attempts: a.attempts };
  }

  /** The Pacs port's retrieve into a local folder: into the store under a prefix of this call, copied out, removed. */
  async retrieve(req: { studyInstanceUid: string; seriesInstanceUid?: string }, destDir: string): Promise<RetrieveResult> {
    const prefix = `dicom/retrieve/${randomUUID()}`;
    try {
      const a = await this.retrieveToStore(req, prefix);
      await mkdir(destDir, { recursive: true });
      const instances: RetrievedInstance[] = new Array<RetrievedInstance>(a.instances.length);
      let next = 0;
      const copyOne = async (): Promise<void> => {
        for (let i = next++; i < a.instances.length; i = next++) {
          const { key, ...uids } = a.instances[i]!;
          const path = join(destDir, ...key.slice(prefix.length + 1).split('/'));
          const tmp = `${path}.tmp-${process.pid}-${i}`;
          await mkdir(dirname(path), { recursive: true });
          try {
            await writeFile(tmp, await this.o.store.get(key));
            await rename(tmp, path); // a reader sees the whole file or none
          } catch (e) {
            await rm(tmp, { force: true });
            throw e;
          }
          instances[i] = { path, ...uids };
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, a.instances.length) }, copyOne));
      return { method: a.method, instances, attempts: a.attempts };
    } finally {
      await this.o.store.remove(prefix).catch((e: unknown) => this.o.log.warn('could not remove the retrieval artifacts', { prefix, error: toDfaError(e).message }));
    }
  }

  async store(files: readonly string[]): Promise<StoreOutcome[]> {
    const prefix = `dicom/store/${randomUUID()}`;
    try {
      const keys: string[] = [];
      for (const [i, f] of files.entries()) {
        const key = `${prefix}/${i}-${basename(f).replace(/[^A-Za-z0-9._-]/g, '_')}`;
        await this.o.store.put(key, await readFile(f));
        keys.push(key);
      }
      return (await this.o.client.json<{ outcomes: StoreOutcome[] }>('POST', '/store', { json: { keys }, timeoutMs: this.o.retrieveTimeoutMs ?? 600_000 })).outcomes;
    } finally {
      await this.o.store.remove(prefix).catch((e: unknown) => this.o.log.warn('could not remove the store request artifacts', { prefix, error: toDfaError(e).message }));
    }
  }

  /** Studies pushed to the dicom_handler's SCP and complete, not acknowledged yet, with ids above `after`. */
  async received(after: number, limit = 100, signal?: AbortSignal): Promise<{ studies: RemoteReceivedStudy[]; next: number }> {
    return this.o.client.json<{ studies: RemoteReceivedStudy[]; next: number }>('GET', '/received', { query: { after: String(after), limit: String(limit) }, ...(signal ? { signal } : {}) });
  }

  /** The agent has started these studies' runs; `keep`: inbox keys to leave (refused by the PACS). */
  async ackReceived(ids: readonly number[], keep: readonly string[] = []): Promise<number[]> {
    return (await this.o.client.json<{ acknowledged: number[] }>('POST', '/received/ack', { json: { ids, ...(keep.length > 0 ? { keep } : {}) } })).acknowledged;
  }

  /** Store Part 10 files that are already in the shared store, by key (no copy through this process). */
  async storeKeys(keys: readonly string[]): Promise<StoreOutcome[]> {
    return (await this.o.client.json<{ outcomes: StoreOutcome[] }>('POST', '/store', { json: { keys }, timeoutMs: this.o.retrieveTimeoutMs ?? 600_000 })).outcomes;
  }

  /** Nothing is held here: the connections are the service's. */
  async close(): Promise<void> {}
}
