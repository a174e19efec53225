/**
 * STOW-RS request body and response (PS3.18 10.5). The body is a multipart/related of
 * type="application/dicom" with one Part 10 file per part, built from file-backed Blobs so that
 * nothing is read into memory before it goes on the wire and the Content-Length is known (some
 * servers, Orthanc's among them, handle a sized body better than a chunked one).
 */
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { DfaError } from '../../core/errors.ts';
import type { StoreOutcome } from '../../core/ports.ts';
import { TAG, firstNumber, firstString, sequence, type DicomJsonDataset } from './dicom-json.ts';
import { part10Ids } from './part10-ids.ts';

export interface StowFile {
  readonly path: string;
  readonly sopInstanceUid: string;
  readonly size: number;
}

const HEAD_BYTES = 64 * 1024;

/** Reads a file's SOP Instance UID from its head (the whole file only when the head is not enough). */
export async function describeFile(path: string): Promise<StowFile> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new DfaError('STORE_FAILED', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e, details: { file: path } });
  }
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await fh.read(head, 0, head.length, 0);
    try {
      return { path, size, sopInstanceUid: part10Ids(head).sopInstanceUid };
    } catch (e) {
      if (size <= HEAD_BYTES) throw e;
      const all = Buffer.alloc(size);
      await fh.read(all, 0, size, 0);
      return { path, size, sopInstanceUid: part10Ids(all).sopInstanceUid };
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DfaError('STORE_FAILED', `cannot store ${path}: ${why}`, { cause: e, details: { file: path } });
  } finally {
    await fh.close();
  }
}

export interface StowBody {
  readonly body: Blob;
  readonly contentType: string;
}

export async function stowBody(files: readonly StowFile[]): Promise<StowBody> {
  const boundary = `dfa-${randomBytes(12).toString('hex')}`;
  const parts: (Blob | string)[] = [];
  for (const f of files) {
    parts.push(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    parts.push(await openAsBlob(f.path));
    parts.push('\r\n');
  }
  parts.push(`--${boundary}--\r\n`);
  return {
    body: new Blob(parts),
    // PS3.18 10.5.1.1: multipart/related; type="application/dicom"
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}

/** PS3.18 I.2 / PS3.4 Table GG.4-1 failure reasons, for messages an operator can act on. */
const FAILURE_MEANING: Record<number, string> = {
  0x0110: 'processing failure',
  0x0112: 'no such object instance',
  0x0122: 'SOP class not supported',
  0x0124: 'not authorized',
  0x0211: 'unrecognized operation',
  0x0212: 'mistyped argument',
  0xa700: 'out of resources',
  0xa900: 'data set does not match SOP class',
  0xc000: 'cannot understand',
  0xc122: 'referenced transfer syntax not supported',
};

function hex4(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * One StoreOutcome per file sent, from the STOW-RS response data set (PS3.18 10.5.3): instances in
 * ReferencedSOPSequence were stored, those in FailedSOPSequence were not (with FailureReason);
 * anything the server did not mention counts as not stored (Orthanc lists neither an instance it
 * could not parse nor one it ignored). Failures carry the HTTP status of the response.
 */
export function stowOutcomes(files: readonly StowFile[], httpStatus: number, response: DicomJsonDataset | undefined): StoreOutcome[] {
  const stored = new Map<string, string | undefined>();
  const failed = new Map<string, string>();
  if (response) {
    for (const item of sequence(response, TAG.ReferencedSOPSequence)) {
      const uid = firstString(item, TAG.ReferencedSOPInstanceUID);
      const warn = firstNumber(item, TAG.WarningReason);
      if (uid) stored.set(uid, warn === undefined ? undefined : `stored with warning ${hex4(warn)}`);
    }
    for (const item of sequence(response, TAG.FailedSOPSequence)) {
      const uid = firstString(item, TAG.ReferencedSOPInstanceUID);
      const code = firstNumber(item, TAG.FailureReason);
      if (uid) {
        failed.set(uid, code === undefined ? 'failed (no FailureReason given)' : `FailureReason ${hex4(code)} (${FAILURE_MEANING[code] ?? 'unknown'})`);
      }
    }
  }
  return files.map((f): StoreOutcome => {
    const why = failed.get(f.sopInstanceUid);
    if (why !== undefined) return { sopInstanceUid: f.sopInstanceUid, ok: false, status: httpStatus, reason: why };
    if (stored.has(f.sopInstanceUid)) {
      const warn = stored.get(f.sopInstanceUid);
      // Per instance: 200 stored, 202 stored with a warning (PS3.18 10.5.3.1), whatever the
      // status of the whole response (Orthanc answers 400 when any instance failed).
      return { sopInstanceUid: f.sopInstanceUid, ok: true, status: warn ? 202 : 200, ...(warn ? { reason: warn } : {}) };
    }
    return { sopInstanceUid: f.sopInstanceUid, ok: false, status: httpStatus, reason: 'not listed in the STOW-RS response' };
  });
}

/** Splits files into requests of at most `maxFiles` files and `maxBytes` bytes (one file may exceed it). */
export function batches(files: readonly StowFile[], maxFiles: number, maxBytes: number): StowFile[][] {
  const out: StowFile[][] = [];
  let cur: StowFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length > 0 && (cur.length >= maxFiles || bytes + f.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
