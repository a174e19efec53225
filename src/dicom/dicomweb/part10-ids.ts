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
  // Fast path (a few µs): scan the elements; dcmjs (~1 ms a file) only for what the scan declines.
  const fast = scanPart10Ids(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (fast) return fast;
  if (bytes.byteLength > HEAD_BYTES) {
    const fromHead = readIds(bytes.subarray(0, HEAD_BYTES), false);
    if (fromHead) return fromHead;
  }
  return readIds(bytes, true) as Part10Ids;
}

/** The dcmjs path alone (whole file), to check the fast scanner against. */
export function part10IdsByDcmjs(bytes: Uint8Array): Part10Ids {
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

// ───────────── fast scanner: little-endian transfer syntaxes, top level up to (0020,000E) ─────────────

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
/** PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

class Declined extends Error {}

/** UIDs by walking the elements; undefined when the encoding is one we leave to dcmjs. */
export function scanPart10Ids(b: Buffer): Part10Ids | undefined {
  try {
    const meta = new Map<number, string>();
    let pos = 132;
    // PS3.10 7.1: the file meta group is always explicit VR little endian.
    while (pos + 8 <= b.length && b.readUInt16LE(pos) === 0x0002) {
      pos = element(b, pos, true, meta);
    }
    const ts = meta.get(0x00020010) ?? '';
    if (ts === EXPLICIT_BE || ts === DEFLATED || ts === '') return undefined;
    const explicit = ts !== IMPLICIT_LE;
    const ds = new Map<number, string>();
    while (pos + 8 <= b.length && !ds.has(0x0020000e)) {
      const tag = ((b.readUInt16LE(pos) << 16) | b.readUInt16LE(pos + 2)) >>> 0;
      if (tag > 0x0020000e) break;
      pos = element(b, pos, explicit, ds);
    }
    const ids: Part10Ids = {
      sopClassUid: meta.get(0x00020002) || ds.get(0x00080016) || '',
      sopInstanceUid: meta.get(0x00020003) || ds.get(0x00080018) || '',
      studyInstanceUid: ds.get(0x0020000d) ?? '',
      seriesInstanceUid: ds.get(0x0020000e) ?? '',
      transferSyntaxUid: ts,
    };
    return ids.sopInstanceUid && ids.seriesInstanceUid ? ids : undefined;
  } catch (e) {
    if (e instanceof Declined || e instanceof RangeError) return undefined;
    throw e;
  }
}

const WANTED = new Set([0x00020002, 0x00020003, 0x00020010, 0x00080016, 0x00080018, 0x0020000d, 0x0020000e]);

/** Reads one element at `pos` (keeping wanted string values), returns the position after it. */
function element(b: Buffer, pos: number, explicit: boolean, out: Map<number, string> | undefined): number {
  const tag = ((b.readUInt16LE(pos) << 16) | b.readUInt16LE(pos + 2)) >>> 0;
  let len: number;
  let vr = '';
  if (explicit) {
    vr = b.toString('latin1', pos + 4, pos + 6);
    if (LONG_VRS.has(vr)) {
      len = b.readUInt32LE(pos + 8);
      pos += 12;
    } else {
      len = b.readUInt16LE(pos + 6);
      pos += 8;
    }
  } else {
    len = b.readUInt32LE(pos + 4);
    pos += 8;
  }
  if (len === UNDEFINED) {
    // An undefined-length UN is encoded implicit VR inside (PS3.5 6.2.2): leave that to dcmjs.
    if (vr === 'UN') throw new Declined();
    return skipItems(b, pos, explicit);
  }
  if (pos + len > b.length) throw new RangeError('element beyond buffer');
  if (out && WANTED.has(tag)) out.set(tag, b.toString('latin1', pos, pos + len).replace(/[\0 ]+$/, ''));
  return pos + len;
}

/** Skips the items of an undefined-length sequence up to its delimiter (FFFE,E0DD) (PS3.5 7.5). */
function skipItems(b: Buffer, pos: number, explicit: boolean): number {
  for (;;) {
    const tag = ((b.readUInt16LE(pos) << 16) | b.readUInt16LE(pos + 2)) >>> 0;
    const len = b.readUInt32LE(pos + 4);
    pos += 8;
    if (tag === 0xfffee0dd) return pos; // sequence delimitation item
    if (tag !== 0xfffee000) throw new Declined(); // encapsulated pixel data fragments or corrupt
    if (len !== UNDEFINED) {
      pos += len;
      continue;
    }
    // Undefined-length item: its elements, then the item delimiter (FFFE,E00D).
    while (((b.readUInt16LE(pos) << 16) | b.readUInt16LE(pos + 2)) >>> 0 !== 0xfffee00d) pos = element(b, pos, explicit, undefined);
    pos += 8;
  }
}
