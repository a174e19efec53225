/**
 * The DICOM gateway's list of received studies (`dfa service dicom`): each study pushed to our SCP
 * becomes one entry once it has been quiet for `quietMs` (C-STORE has no "study complete" message,
 * PS3.4 B.2), after its files were published in the artifact store the agent shares (`commit`).
 * The agent reads the list (GET /received) and acknowledges an entry (POST /received/ack) only once
 * it has started the study's run; an acknowledged entry is removed with its inbox files.
 *
 * Durable: the list is a journal of one JSON file per entry in the gateway's data directory
 * (written to a temporary name and renamed, so a reader sees a whole entry or none); the received
 * files themselves were written before their C-STORE response went out. At start-up, inbox files
 * that belong to no entry (the gateway stopped during a study's quiet time) are handled as a new push.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { toDfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ArtifactStore, RetrievedInstance } from '../../core/ports.ts';
import { scanInbox } from './inbox-scan.ts';

export interface ReceivedInstance {
  /** Artifact key of the Part 10 file in the shared store (`inbox/<study>/<series>/<sop>.dcm`). */
  readonly key: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}

export interface ReceivedStudy {
  /** Increasing id: the cursor of GET /received?after=. */
  readonly id: number;
  readonly studyInstanceUid: string;
  /** The calling AE titles that pushed it (a push from the PACS's own AE is a notification). */
  readonly callingAets: readonly string[];
  /** When its quiet time ended (ISO 8601). */
  readonly completedAt: string;
  readonly instances: readonly ReceivedInstance[];
}

const NAME = /^(\d{12})\.json$/;
const fileOf = (id: number) => `${String(id).padStart(12, '0')}.json`;

/** The journal: one file per unacknowledged entry under `dir`. */
export class ReceivedJournal {
  private readonly dir: string;
  private lastId = 0;
  private readonly entries = new Map<number, ReceivedStudy>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dir: string): Promise<ReceivedJournal> {
    const j = new ReceivedJournal(dir);
    await mkdir(dir, { recursive: true });
    for (const name of (await readdir(dir)).sort()) {
      const m = NAME.exec(name);
      if (!m) {
        if (name.includes('.tmp-')) await rm(join(dir, name), { force: true }); // an interrupted append: never listed
        continue;
      }
      const e = JSON.parse(await readFile(join(dir, name), 'utf8')) as ReceivedStudy;
      j.entries.set(e.id, e);
      j.lastId = Math.max(j.lastId, e.id);
    }
    // Ids stay increasing across restarts even when every entry was acknowledged.
    const mark = await readFile(join(dir, 'last-id'), 'utf8').catch(() => '0');
    j.lastId = Math.max(j.lastId, Number.parseInt(mark, 10) || 0);
    return j;
  }

  /** Every key some entry holds (the start-up scan leaves those alone). */
  keys(): Set<string> {
    return new Set([...this.entries.values()].flatMap((e) => e.instances.map((i) => i.key)));
  }

  async append(e: Omit<ReceivedStudy, 'id'>): Promise<ReceivedStudy> {
    const id = ++this.lastId;
    const entry: ReceivedStudy = { id, ...e };
    await writeAtomic(join(this.dir, 'last-id'), String(id));
    await writeAtomic(join(this.dir, fileOf(id)), JSON.stringify(entry));
    this.entries.set(id, entry);
    return entry;
  }

  /** Entries with an id above `after`, oldest first. */
  list(after: number, limit: number): ReceivedStudy[] {
    return [...this.entries.values()].filter((e) => e.id > after).sort((a, b) => a.id - b.id).slice(0, limit);
  }

  get(id: number): ReceivedStudy | undefined {
    return this.entries.get(id);
  }

  /** Forget an entry (acknowledged). */
  async remove(id: number): Promise<void> {
    await rm(join(this.dir, fileOf(id)), { force: true });
    this.entries.delete(id);
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

interface Pending {
  readonly instances: Map<string, ReceivedInstance>; // by key
  readonly callers: Set<string>;
  timer?: NodeJS.Timeout;
}

/** The artifact key of a file the SCP wrote into the inbox (`…/inbox/<study>/<series>/<file>`). */
export function inboxKeyOf(path: string): string {
  const parts = path.split(sep);
  const i = parts.lastIndexOf('inbox');
  if (i < 0 || parts.length - i !== 4) throw new Error(`not an inbox file: ${parts.slice(-3).join('/')}`);
  return parts.slice(i).join('/');
}

export interface ReceivedStudiesOptions {
  readonly journal: ReceivedJournal;
  /** The store the SCP writes its inbox into (shared with the agent). */
  readonly store: ArtifactStore;
  readonly quietMs: number;
  /** A failed publish (commit, journal write) is tried again after this long. */
  readonly retryMs?: number;
  readonly log: Logger;
}

/**
 * The gateway's side of the standing goal: groups the SCP's inbox instances per study, waits for
 * the study to be quiet, publishes its files and appends it to the journal.
 */
export class ReceivedStudies {
  private readonly o: ReceivedStudiesOptions;
  private readonly pending = new Map<string, Pending>();
  private readonly working = new Set<Promise<void>>();
  private closed = false;
  /** Called after each study was recorded (tests follow it). */
  onRecorded?: (e: ReceivedStudy) => void;

  constructor(o: ReceivedStudiesOptions) {
    this.o = o;
  }

  get journal(): ReceivedJournal {
    return this.o.journal;
  }

  /** One instance arrived in the SCP's inbox (or was found there at start-up). */
  received(r: RetrievedInstance, from: { readonly callingAet: string }): void {
    if (this.closed) return;
    let key: string;
    try {
      key = inboxKeyOf(r.path);
    } catch (e) {
      this.o.log.warn('received instance outside the inbox; not listed', { error: toDfaError(e).message });
      return;
    }
    const uid = r.studyInstanceUid;
    let p = this.pending.get(uid);
    if (!p) this.pending.set(uid, (p = { instances: new Map(), callers: new Set() }));
    clearTimeout(p.timer);
    p.instances.set(key, { key, studyInstanceUid: uid, seriesInstanceUid: r.seriesInstanceUid, sopInstanceUid: r.sopInstanceUid, sopClassUid: r.sopClassUid });
    p.callers.add(from.callingAet);
    p.timer = setTimeout(() => this.fire(uid), this.o.quietMs);
  }

  /** Hand every inbox file that no entry holds to `received` (start-up: a study cut off in its quiet time). */
  async rescan(): Promise<number> {
    const dir = await this.o.store.dir('inbox');
    const scan = await scanInbox(dir);
    const known = this.o.journal.keys();
    let n = 0;
    for (const e of scan.entries) {
      if (known.has(inboxKeyOf(e.instance.path))) continue;
      this.received(e.instance, { callingAet: e.callingAet });
      n++;
    }
    for (const u of scan.unreadable) this.o.log.warn('inbox file not readable as DICOM; left in place', { error: u.reason });
    if (n > 0) this.o.log.info('inbox rescanned: instances received before a restart are listed once their study is quiet', { instances: n });
    return n;
  }

  private fire(uid: string): void {
    const p = this.pending.get(uid);
    if (!p) return;
    this.pending.delete(uid);
    const w = this.record(uid, p).finally(() => this.working.delete(w));
    this.working.add(w);
  }

  private async record(uid: string, p: Pending): Promise<void> {
    const instances = [...p.instances.values()];
    try {
      // Publish the study's files where the agent reads them (an object store: now; local disk: already there).
      for (const series of new Set(instances.map((i) => i.key.split('/').slice(0, 3).join('/')))) await this.o.store.commit(series);
      const e = await this.o.journal.append({ studyInstanceUid: uid, callingAets: [...p.callers].sort(), completedAt: new Date().toISOString(), instances });
      this.o.log.info('received study listed for the agent', { id: e.id, study: uid, instances: instances.length });
      this.onRecorded?.(e);
    } catch (e) {
      const retryMs = this.o.retryMs ?? 5000;
      this.o.log.error('could not list a received study; will try again', { study: uid, error: toDfaError(e).message, retryMs });
      if (this.closed) return;
      const again = this.pending.get(uid);
      if (again) {
        for (const [k, v] of p.instances) again.instances.set(k, v);
        for (const c of p.callers) again.callers.add(c);
      } else {
        const q: Pending = { instances: new Map(p.instances), callers: new Set(p.callers) };
        q.timer = setTimeout(() => this.fire(uid), retryMs);
        this.pending.set(uid, q);
      }
    }
  }

  /**
   * The agent has started the entry's run: forget it and remove its inbox files, except `keep`
   * (files the PACS refused: they stay in the inbox, listed again at the gateway's next start).
   * Unknown ids are ignored (acknowledged before). Returns the ids that were removed.
   */
  async ack(ids: readonly number[], keep: readonly string[] = []): Promise<number[]> {
    const kept = new Set(keep);
    const done: number[] = [];
    for (const id of ids) {
      const e = this.o.journal.get(id);
      if (!e) continue;
      // The journal first: a crash between the two leaves files that the next start lists again (never an entry without files).
      await this.o.journal.remove(id);
      const stillListed = this.o.journal.keys();
      for (const i of e.instances) {
        if (kept.has(i.key) || stillListed.has(i.key)) continue;
        await this.o.store.remove(i.key).catch((err: unknown) => this.o.log.warn('could not remove an acknowledged inbox file', { error: toDfaError(err).message }));
      }
      done.push(id);
    }
    if (done.length > 0) this.o.log.info('received studies acknowledged by the agent', { ids: done });
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [uid, p] of this.pending) {
      clearTimeout(p.timer);
      this.o.log.warn('received study still in its quiet time (stopping); listed at the next start', { study: uid, instances: p.instances.size });
    }
    this.pending.clear();
    await Promise.all(this.working);
  }
}
