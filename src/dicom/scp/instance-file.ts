/**
 * Writing a received instance to disk as a Part 10 file, atomically (temp file + rename), and
 * reading the UIDs that place it in its study and series.
 */
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RetrievedInstance } from '../../core/ports.ts';
import { part10Header, scanAttributes } from '../dimse/dataset.ts';
import type { IncomingInstance } from '../dimse/scu.ts';

const PLACE = new Set(['0020000D', '0020000E']);

/** Study and series UID of an instance, read from its header without parsing pixel data. */
export function placeOf(i: Pick<IncomingInstance, 'dataset' | 'transferSyntax'>): { studyInstanceUid: string; seriesInstanceUid: string } {
  const a = scanAttributes(i.dataset, i.transferSyntax, PLACE, 0x00210000);
  return { studyInstanceUid: a['0020000D'] ?? '', seriesInstanceUid: a['0020000E'] ?? '' };
}

/**
 * Instances up to this size are written with synchronous calls (open, one writev, close, rename):
 * the C-STORE response waits for the write anyway (a failed write must be answered as a failure), and
 * four hops through the thread pool per instance cost more than the ~0.3 ms a 512 KiB write takes.
 * Larger ones (multi-frame, whole-body) go through the thread pool so the event loop is not held.
 */
const SYNC_WRITE_MAX = 4 << 20;

/**
 * Write `i` as a Part 10 file at `path`, under a temporary name first and renamed when complete (a
 * reader never sees half a file; a failed write leaves no temporary behind). Resolves once the file
 * is in place, rejects if it could not be written.
 */
export async function writeInstanceFile(path: string, i: IncomingInstance, place = placeOf(i)): Promise<RetrievedInstance> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const data = [part10Header(i.sopClassUid, i.sopInstanceUid, i.transferSyntax, i.callingAet), i.dataset];
  if (i.dataset.length <= SYNC_WRITE_MAX) writeSync(tmp, path, data);
  else await writeAsync(tmp, path, data);
  return { path, ...place, sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid };
}

function writeSync(tmp: string, path: string, data: Buffer[]): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    // mkdir only when needed: one syscall less per instance on the hot path of a large retrieve.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(tmp, 'w');
  }
  fillAndRename(fd, tmp, path, data);
}

/** Write `data` to the open temporary file, close it and rename it to `path`; on failure remove it. */
function fillAndRename(fd: number, tmp: string, path: string, data: Buffer[]): void {
  try {
    try {
      writeAll(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

/** writev until every byte is written (a regular file takes all at once, but the call may write less). */
function writeAll(fd: number, data: Buffer[]): void {
  let rest = data.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let n = writevSync(fd, rest);
    const next: Buffer[] = [];
    for (const b of rest) {
      if (n >= b.length) n -= b.length;
      else {
        next.push(n > 0 ? b.subarray(n) : b);
        n = 0;
      }
    }
    rest = next;
  }
}

async function writeAsync(tmp: string, path: string, data: Buffer[]): Promise<void> {
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dirname(path), { recursive: true });
    fh = await open(tmp, 'w');
  }
  try {
    try {
      await fh.writeFile(data); // an iterable: written part by part, not concatenated
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** A file name safe for any SOP Instance UID (UIDs are digits and dots, PS3.5 9.1). */
export const fileNameFor = (sopInstanceUid: string): string => `${sopInstanceUid.replace(/[^0-9.]/g, '_').replace(/^\.+/, '_') || 'unknown'}.dcm`;

/**
 * Writes the instances of one retrieval into one directory like `writeInstanceFile`, with the next
 * temporary file created ahead of time: `prepare()` runs once a C-STORE response has gone out, while
 * the PACS reads its next instance, so creating the file (inode allocation: 0.1-0.35 ms on ext4 here)
 * is off the path between an instance's last byte and its response. `dispose()` removes the unused one.
 */
export class InstanceFiles {
  readonly dir: string;
  private next?: { readonly fd: number; readonly tmp: string };
  private disposed = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Create the next temporary file now (errors are left for the write itself to meet and report). */
  prepare(): void {
    if (this.disposed || this.next) return;
    const tmp = join(this.dir, `.dfa-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
    try {
      this.next = { fd: openSync(tmp, 'w'), tmp };
    } catch {
      /* the write opens its own file and reports what goes wrong */
    }
  }

  async write(i: IncomingInstance, place = placeOf(i)): Promise<RetrievedInstance> {
    const path = join(this.dir, fileNameFor(i.sopInstanceUid));
    const next = this.next;
    try {
      if (next && i.dataset.length <= SYNC_WRITE_MAX) {
        this.next = undefined;
        fillAndRename(next.fd, next.tmp, path, [part10Header(i.sopClassUid, i.sopInstanceUid, i.transferSyntax, i.callingAet), i.dataset]);
        return { path, ...place, sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid };
      }
      return await writeInstanceFile(path, i, place);
    } finally {
      // After this turn of the event loop, i.e. after the C-STORE response is written.
      setImmediate(() => this.prepare());
    }
  }

  /** Close and remove the temporary file made ahead; no more are made. */
  dispose(): void {
    this.disposed = true;
    const next = this.next;
    this.next = undefined;
    if (!next) return;
    try {
      closeSync(next.fd);
      unlinkSync(next.tmp);
    } catch {
      /* already gone */
    }
  }
}
