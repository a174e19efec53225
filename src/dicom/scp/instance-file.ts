/**
 * Writing a received instance to disk as a Part 10 file, atomically (temp file + rename), and
 * reading the UIDs that place it in its study and series.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RetrievedInstance } from '../../core/ports.ts';
import { part10Header, scanAttributes } from '../dimse/dataset.ts';
import type { IncomingInstance } from '../dimse/scu.ts';

const PLACE = new Set(['0020000D', '0020000E']);

/** Study and series UID of an instance, read from its header without parsing pixel data. */
export function placeOf(i: Pick<IncomingInstance, 'dataset' | 'transferSyntax'>): { studyInstanceUid: string; seriesInstanceUid: string } {
  const a = scanAttributes(i.dataset, i.transferSyntax, PLACE, 0x00210000);
  return { studyInstanceUid: a['0020000D'] ?? '', seriesInstanceUid: a['0020000E'] ?? '' };
}

export async function writeInstanceFile(path: string, i: IncomingInstance, place = placeOf(i)): Promise<RetrievedInstance> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const data = [part10Header(i.sopClassUid, i.sopInstanceUid, i.transferSyntax, i.callingAet), i.dataset];
  try {
    await writeFile(tmp, data);
  } catch (e) {
    // mkdir only when needed: one syscall less per instance on the hot path of a large retrieve.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
  }
  await rename(tmp, path);
  return { path, ...place, sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid };
}

/** A file name safe for any SOP Instance UID (UIDs are digits and dots, PS3.5 9.1). */
export const fileNameFor = (sopInstanceUid: string): string => `${sopInstanceUid.replace(/[^0-9.]/g, '_').replace(/^\.+/, '_') || 'unknown'}.dcm`;

/** Disk writes in flight during a retrieve, at most `max` at a time (backpressure on the network). */
export class InstanceWriter {
  private readonly pending = new Set<Promise<void>>();
  private error: unknown;
  private readonly max: number;

  constructor(max = 8) {
    this.max = max;
  }

  async add(write: Promise<void>): Promise<void> {
    const p: Promise<void> = write.catch((e: unknown) => {
      this.error ??= e;
    }).finally(() => this.pending.delete(p));
    this.pending.add(p);
    if (this.pending.size >= this.max) await Promise.race(this.pending);
  }

  /** Wait for every write; the first failure's message, if any. */
  async finish(): Promise<string | undefined> {
    await Promise.all(this.pending);
    return this.error === undefined ? undefined : this.error instanceof Error ? this.error.message : String(this.error);
  }
}

