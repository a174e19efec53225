import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { DfaError } from '../../core/errors.ts';

/** Lock files this process holds. */
const OPEN_HERE = new Set<string>();

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
  #replaying = false;

  constructor(dataDir?: string) {
    super();
    this.#file = dataDir ? join(dataDir, 'fhir-journal.jsonl') : undefined;
    this.#lock = dataDir ? join(dataDir, 'fhir.lock') : undefined;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
  }

  /**
   * One process per data dir: two servers appending to one journal would each miss the other's
   * writes. A lock left by a process that no longer runs is taken over.
   */
  lock(): void {
    if (!this.#lock) return;
    try {
      writeFileSync(this.#lock, String(process.pid), { flag: 'wx' });
      OPEN_HERE.add(this.#lock);
      return;
    } catch {
      const pid = Number(readFileSync(this.#lock, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DfaError('SERVICE_UNREACHABLE', `FHIR data dir ${this.#lock} is in use by process ${pid} (a running dev FHIR server: point DFA_FHIR_URL at it)`);
      }
      // Same pid: open here, or left by an earlier container run that had our pid (often 1).
      if (pid === process.pid && OPEN_HERE.has(this.#lock)) {
        throw new DfaError('SERVICE_UNREACHABLE', `FHIR data dir ${this.#lock} is already open in this process`);
      }
      writeFileSync(this.#lock, String(process.pid));
      OPEN_HERE.add(this.#lock);
    }
  }

  unlock(): void {
    if (!this.#lock) return;
    rmSync(this.#lock, { force: true });
    OPEN_HERE.delete(this.#lock);
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
        if (e.op === 'put') await super.createResource(e.resource);
        else await super.deleteResource(e.resourceType, e.id).catch(() => undefined);
        n++;
      }
    } finally {
      this.#replaying = false;
    }
    return n;
  }

  override async createResource<T extends Resource>(resource: T): Promise<T & { id: string }> {
    const stored = await super.createResource(resource);
    this.#append({ op: 'put', resource: stored });
    return stored;
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    await super.deleteResource(resourceType, id);
    this.#append({ op: 'delete', resourceType, id });
  }

  #append(e: JournalEntry): void {
    if (!this.#file || this.#replaying) return;
    appendFileSync(this.#file, JSON.stringify(e) + '\n');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
