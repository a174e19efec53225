/**
 * The SCP inbox as it is on disk, read at start-up: every instance a sender pushed was written
 * there (atomically, see instance-file.ts) before its C-STORE response went out, so what is found
 * here is exactly what was received and not yet handled. Half-written temporary files (the process
 * died during a write, so the sender never got a success response) are removed.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetrievedInstance } from '../../core/ports.ts';
import { scanAttributes } from '../dimse/dataset.ts';
import { readPart10, readPart10Head } from '../dimse/part10-head.ts';

export interface InboxEntry {
  readonly instance: RetrievedInstance;
  /** (0002,0016) of the file: the calling AE title that pushed it. */
  readonly callingAet: string;
}

export interface InboxScan {
  readonly entries: InboxEntry[];
  /** Temporary files of interrupted writes, removed. */
  readonly removedPartial: number;
  /** Files that could not be read as DICOM (left where they are), with the reason. */
  readonly unreadable: { readonly path: string; readonly reason: string }[];
}

const PLACE = new Set(['0020000D', '0020000E']);

export async function scanInbox(dir: string): Promise<InboxScan> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], removedPartial: 0, unreadable: [] };
    throw e;
  }
  const entries: InboxEntry[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  let removedPartial = 0;
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (/\.dcm\.tmp-|\.tmp$/.test(name)) {
      await unlink(path).catch(() => undefined);
      removedPartial++;
      continue;
    }
    if (!name.endsWith('.dcm')) continue;
    try {
      entries.push(await readEntry(path));
    } catch (e) {
      unreadable.push({ path, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { entries, removedPartial, unreadable };
}

async function readEntry(path: string): Promise<InboxEntry> {
  const head = await readPart10Head(path);
  let place: Record<string, string> | undefined;
  try {
    place = scanAttributes(head.dataset, head.transferSyntax, PLACE, 0x00210000);
  } catch (e) {
    if (head.complete) throw e;
  }
  if (!place?.['0020000D'] && !head.complete) {
    const all = await readPart10(path); // a deflated data set, or a header longer than the head
    place = scanAttributes(all.dataset, all.transferSyntax, PLACE, 0x00210000);
  }
  const studyInstanceUid = place?.['0020000D'] ?? '';
  if (!studyInstanceUid) throw new Error('no Study Instance UID');
  return {
    instance: { path, studyInstanceUid, seriesInstanceUid: place?.['0020000E'] ?? '', sopInstanceUid: head.sopInstanceUid, sopClassUid: head.sopClassUid },
    callingAet: head.sourceAet ?? '',
  };
}
