/**
 * The identifying UIDs of a DICOM Part 10 file (PS3.10 7.1), read from its first bytes only:
 * the file meta group gives SOP Class/Instance UIDs, the data set up to (0020,000E) gives the
 * study and series. Used to name files received by WADO-RS and to match STOW-RS responses to
 * the files sent, without parsing pixel data.
 */
import { createRequire } from 'node:module';
import { DfaError } from '../../core/errors.ts';

interface DcmjsElement {
  Value?: unknown[];
}
interface DcmjsDict {
  meta: Record<string, DcmjsElement>;
  dict: Record<string, DcmjsElement>;
}
interface DcmjsSubset {
  data: {
    DicomMessage: {
      readFile(buf: ArrayBuffer, opts: { ignoreErrors: boolean; untilTag: string; includeUntilTagValue: boolean; noCopy?: boolean }): DcmjsDict;
    };
  };
  log: { setLevel?(level: string): void; disableAll?(): void };
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as DcmjsSubset;

export interface Part10Ids {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly transferSyntaxUid: string;
}

const SERIES_INSTANCE_UID = '0020000E';
/** Headers larger than this are rare (big private sequences); we then retry on the whole file. */
const HEAD_BYTES = 64 * 1024;

function str(el: DcmjsElement | undefined): string {
  const v = el?.Value?.[0];
  return typeof v === 'string' ? v.replace(/[\0 ]+$/, '') : '';
}

function readIds(bytes: Uint8Array, whole: boolean): Part10Ids | undefined {
  // dcmjs wants an ArrayBuffer holding exactly the file (or its head).
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let d: DcmjsDict;
  try {
    d = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: !whole, untilTag: SERIES_INSTANCE_UID, includeUntilTagValue: true });
  } catch (e) {
    if (!whole) return undefined;
    throw new DfaError('DICOM_PARSE_FAILED', `not a readable DICOM Part 10 file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const ids: Part10Ids = {
    // PS3.10 7.1: Media Storage SOP Class/Instance UID (0002,0002)/(0002,0003) mirror (0008,0016)/(0008,0018).
    sopClassUid: str(d.meta['00020002']) || str(d.dict['00080016']),
    sopInstanceUid: str(d.meta['00020003']) || str(d.dict['00080018']),
    studyInstanceUid: str(d.dict['0020000D']),
    seriesInstanceUid: str(d.dict[SERIES_INSTANCE_UID]),
    transferSyntaxUid: str(d.meta['00020010']),
  };
  if (!ids.seriesInstanceUid && !whole) return undefined;
  if (!ids.sopInstanceUid) throw new DfaError('DICOM_PARSE_FAILED', 'DICOM file has no SOP Instance UID');
  return ids;
}

/** Reads the UIDs from a Part 10 file's bytes; throws DfaError DICOM_PARSE_FAILED if it is not one. */
export function part10Ids(bytes: Uint8Array): Part10Ids {
  if (bytes.byteLength < 132 || Buffer.from(bytes.buffer, bytes.byteOffset + 128, 4).toString('latin1') !== 'DICM') {
    throw new DfaError('DICOM_PARSE_FAILED', 'not a DICOM Part 10 file (no DICM prefix at offset 128)');
  }
  if (bytes.byteLength > HEAD_BYTES) {
    const fromHead = readIds(bytes.subarray(0, HEAD_BYTES), false);
    if (fromHead) return fromHead;
  }
  return readIds(bytes, true) as Part10Ids;
}

/** Same, for a body held as chunks (a multipart part): concatenates only the head it needs. */
export function part10IdsOfChunks(chunks: readonly Uint8Array[], size: number): Part10Ids {
  if (chunks.length === 1) return part10Ids(chunks[0]);
  let have = 0;
  const head: Uint8Array[] = [];
  for (const c of chunks) {
    head.push(c);
    have += c.byteLength;
    if (have >= HEAD_BYTES) break;
  }
  try {
    return part10Ids(Buffer.concat(head));
  } catch (e) {
    if (have >= size) throw e;
    return part10Ids(Buffer.concat(chunks as Uint8Array[]));
  }
}
