import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchesSearchRequest, type SearchRequest, type WithId } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { DfaError } from '../../core/errors.ts';
import { takePidLock, type PidLock } from '../../io/pid-lock.ts';
import { SearchIndex } from './search-index.ts';

type JournalEntry = { op: 'put'; resource: Resource } | { op: 'delete'; resourceType: string; id: string };

/**
 * MemoryRepository that survives a restart: every stored version is appended to a JSON-lines
 * journal (a synchronous write per version: survives a process crash; no fsync, so not a power cut)
 * and replayed on start, keeping ids, versionIds and
 * lastUpdated exactly as they were (MemoryRepository.createResource keeps given meta).
 * MemoryRepository.updateResource and patchResource both end in createResource, so hooking
 * createResource and deleteResource sees every write.
 */
export class JournalRepository extends MemoryRepository {
  readonly #file: string | undefined;
  readonly #lock: string | undefined;
  #held: PidLock | undefined;
  #replaying = false;
  readonly #index = new SearchIndex();

  constructor(dataDir?: string) {
    super();
    this.#file = dataDir ? join(dataDir, 'fhir-journal.jsonl') : undefined;
    this.#lock = dataDir ? join(dataDir, 'fhir.lock') : undefined;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
  }

  /**
   * One process per data dir: two servers appending to one journal would each miss the other's
   * writes (src/io/pid-lock.ts).
   */
  lock(): void {
    if (!this.#lock || this.#held) return;
    this.#held = takePidLock(this.#lock, (pid) =>
      new DfaError(
        'SERVICE_UNREACHABLE',
        pid === process.pid
          ? `FHIR data dir ${this.#lock} is already open in this process`
          : `FHIR data dir ${this.#lock} is in use by process ${pid} (a running dev FHIR server: point DFA_FHIR_URL at it)`,
      ),
    );
  }

  unlock(): void {
    this.#held?.release();
    this.#held = undefined;
  }

  /** Replays the journal; returns how many entries were applied. A torn last line is ignored. */
  async replay(): Promise<number> {
    if (!this.#file || !existsSync(this.#file)) return 0;
    const lines = readFileSync(this.#file, 'utf8').split('\n');
    this.#replaying = true;
    let n = 0;
    try {
      for (const line of lines) {
        if (!line.trim()) continue;
        let e: JournalEntry;
        try {
          e = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // a crash mid-append leaves at most one partial line, at the end
        }
        if (e.op === 'put') this.#index.put(await super.createResource(e.resource));
        else {
          await super.deleteResource(e.resourceType, e.id).catch(() => undefined);
          this.#index.remove(e.resourceType, e.id);
        }
        n++;
      }
    } finally {
      this.#replaying = false;
    }
    return n;
  }

  override async createResource<T extends Resource>(resource: T): Promise<T & { id: string }> {
    const stored = await super.createResource(resource);
    this.#index.put(stored);
    this.#append({ op: 'put', resource: stored });
    return stored;
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    await super.deleteResource(resourceType, id);
    this.#index.remove(resourceType, id);
    this.#append({ op: 'delete', resourceType, id });
  }

  /**
   * Searches with an indexed filter (search-index.ts) run the full matcher on the index's
   * candidates only; the rest scan as MemoryRepository does. Same Bundle either way.
   */
  override async search<T extends Resource>(req: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    const ids = req.sortRules?.length ? undefined : this.#index.candidates(req);
    if (!ids) return super.search(req);
    const matches: WithId<T>[] = [];
    for (const id of ids) {
      const r = await super.readResource<T>(req.resourceType, id).catch(() => undefined); // a copy
      if (r && matchesSearchRequest(r, req)) matches.push(r as WithId<T>);
    }
    let page = matches;
    if (req.offset !== undefined) page = page.slice(req.offset);
    if (req.count !== undefined) page = page.slice(0, req.count);
    return { resourceType: 'Bundle', type: 'searchset', entry: page.length ? page.map((resource) => ({ resource })) : undefined, total: matches.length };
  }

  #append(e: JournalEntry): void {
    if (!this.#file || this.#replaying) return;
    appendFileSync(this.#file, JSON.stringify(e) + '\n');
  }
}
