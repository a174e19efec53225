/**
 * Data sets on the wire: query identifiers go through dcmjs; stored instances are never parsed in
 * full — we keep the bytes as received, wrap them in a Part 10 header (PS3.10 7.1), and read only the
 * few header attributes we index with a small scanner that skips sequences.
 */
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import { DfaError } from '../../core/errors.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './pdu.ts';
import { TS } from './uids.ts';

const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: any; log: { getLogger(name: string): { setLevel(l: string): void } } };
// Implicit VR reads leave ambiguous VRs ('ox') that dcmjs reports on stderr; we resolve them ourselves.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
const { DicomMessage, DicomMetaDictionary, WriteBufferStream, ReadBufferStream } = dcmjs.data;

/** A naturalized dcmjs data set (keyword → value). */
export type Identifier = Record<string, unknown>;

export function encodeIdentifier(ds: Identifier, transferSyntax: string): Buffer {
  const s = new WriteBufferStream();
  const syntax = transferSyntax === TS.IMPLICIT_LE ? TS.IMPLICIT_LE : TS.EXPLICIT_LE;
  DicomMessage.write(DicomMetaDictionary.denaturalizeDataset(ds), s, syntax, {});
  return Buffer.from(s.getBuffer() as ArrayBuffer);
}

export function decodeIdentifier(b: Buffer, transferSyntax: string): Identifier {
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  const syntax = transferSyntax === TS.IMPLICIT_LE ? TS.IMPLICIT_LE : transferSyntax === TS.EXPLICIT_BE ? TS.EXPLICIT_BE : TS.EXPLICIT_LE;
  const dict = DicomMessage._read(new ReadBufferStream(ab), syntax, { ignoreErrors: true, untilTag: null, includeUntilTagValue: false });
  return DicomMetaDictionary.naturalizeDataset(dict) as Identifier;
}

/** A string value of a naturalized attribute, trimmed; PN as its alphabetic form. */
export function str(ds: Identifier, key: string): string | undefined {
  let v = ds[key];
  if (Array.isArray(v)) v = v[0];
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object') v = (v as { Alphabetic?: string }).Alphabetic;
  const s = String(v ?? '').trim();
  return s === '' ? undefined : s;
}

/** All values of a multi-valued string attribute (e.g. ModalitiesInStudy). */
export function strs(ds: Identifier, key: string): string[] {
  const v = ds[key];
  const arr = Array.isArray(v) ? v : v === undefined || v === null ? [] : String(v).split('\\');
  return arr.map((x) => String(x).trim()).filter(Boolean);
}

// ───────────────────────── Part 10 files ─────────────────────────

function metaElement(el: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(0x0002, 0);
  h.writeUInt16LE(el, 2);
  h.write(vr, 4, 'ascii');
  if (long) h.writeUInt32LE(value.length, 8);
  else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}
const uiValue = (s: string): Buffer => Buffer.from(s.length % 2 ? s + '\0' : s, 'ascii');
const textValue = (s: string): Buffer => Buffer.from(s.length % 2 ? s + ' ' : s, 'ascii');

/** PS3.10 7.1: preamble, 'DICM', File Meta Information (explicit VR LE); the data set follows as is. */
export function part10Header(sopClassUid: string, sopInstanceUid: string, transferSyntax: string, sourceAet?: string): Buffer {
  const els = [
    metaElement(0x0001, 'OB', Buffer.from([0, 1])),
    metaElement(0x0002, 'UI', uiValue(sopClassUid)),
    metaElement(0x0003, 'UI', uiValue(sopInstanceUid)),
    metaElement(0x0010, 'UI', uiValue(transferSyntax)),
    metaElement(0x0012, 'UI', uiValue(IMPLEMENTATION_CLASS_UID)),
    metaElement(0x0013, 'SH', textValue(IMPLEMENTATION_VERSION)),
    ...(sourceAet ? [metaElement(0x0016, 'AE', textValue(sourceAet))] : []),
  ];
  const body = Buffer.concat(els);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  const pre = Buffer.alloc(132);
  pre.write('DICM', 128, 'ascii');
  return Buffer.concat([pre, metaElement(0x0000, 'UL', len), body]);
}

export interface Part10 {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntax: string;
  /** The data set bytes after the meta header, in `transferSyntax`. */
  readonly dataset: Buffer;
  /** (0002,0016) Source Application Entity Title: who sent it (we write the calling AE there). */
  readonly sourceAet?: string;
}

/** Split a Part 10 file into its meta information and data set bytes. */
export function splitPart10(file: Buffer, name = 'file'): Part10 {
  if (file.length < 132 || file.toString('ascii', 128, 132) !== 'DICM') {
    throw new DfaError('DICOM_PARSE_FAILED', `${name}: not a DICOM Part 10 file (no 'DICM' prefix)`, { details: { file: name } });
  }
  let o = 132;
  const meta: Record<number, string> = {};
  while (o + 8 <= file.length && file.readUInt16LE(o) === 0x0002) {
    const el = file.readUInt16LE(o + 2);
    const vr = file.toString('ascii', o + 4, o + 6);
    const long = ['OB', 'OW', 'UN', 'SQ', 'UT', 'UC', 'UR', 'OD', 'OF', 'OL', 'OV'].includes(vr);
    const len = long ? file.readUInt32LE(o + 8) : file.readUInt16LE(o + 6);
    const start = o + (long ? 12 : 8);
    if (start + len > file.length) break;
    meta[el] = file.toString('latin1', start, start + len).replace(/[\0 ]+$/, '');
    o = start + len;
  }
  const sopClassUid = meta[0x0002];
  const sopInstanceUid = meta[0x0003];
  const transferSyntax = meta[0x0010];
  if (!sopClassUid || !sopInstanceUid || !transferSyntax) {
    throw new DfaError('DICOM_PARSE_FAILED', `${name}: file meta information lacks SOP class, instance or transfer syntax UID`, { details: { file: name } });
  }
  const sourceAet = meta[0x0016]?.trim();
  return { sopClassUid, sopInstanceUid, transferSyntax, dataset: file.subarray(o), ...(sourceAet ? { sourceAet } : {}) };
}

// ───────────────────────── header scanner ─────────────────────────

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const UNDEFINED = 0xffffffff;

interface Cursor { o: number }

/**
 * Reads top-level string attributes (keyed 'GGGGEEEE') from a data set without parsing it all:
 * stops at `stopTag` (default: pixel data group 7FE0) and skips sequences, including undefined-length
 * ones (PS3.5 7.5). Values are trimmed strings.
 */
export function scanAttributes(dataset: Buffer, transferSyntax: string, wanted: ReadonlySet<string>, stopTag = 0x7fe00000, maxInflated = DEFAULT_LIMITS.maxDatasetBytes): Record<string, string> {
  let data = dataset;
  if (transferSyntax === TS.DEFLATED_LE) {
    try {
      // PS3.5 A.5: a deflated data set from a peer is inflated to at most the data set limit (no deflate bombs).
      data = inflateRawSync(dataset, { maxOutputLength: maxInflated });
    } catch (e) {
      throw new DfaError('DICOM_PARSE_FAILED', `deflated data set does not inflate within ${Math.round(maxInflated / 1048576)} MiB: ${(e as Error).message}`, { cause: e });
    }
  }
  const explicit = transferSyntax !== TS.IMPLICIT_LE;
  const be = transferSyntax === TS.EXPLICIT_BE;
  const out: Record<string, string> = {};
  const c: Cursor = { o: 0 };
  try {
    while (c.o + 8 <= data.length) {
      const g = be ? data.readUInt16BE(c.o) : data.readUInt16LE(c.o);
      const e = be ? data.readUInt16BE(c.o + 2) : data.readUInt16LE(c.o + 2);
      const tag = ((g << 16) | e) >>> 0;
      if (tag >= stopTag) break;
      const { len, valueStart } = header(data, c.o, explicit && g !== 0xfffe, be);
      if (len === UNDEFINED) {
        c.o = valueStart;
        skipUndefined(data, c, explicit, be);
        continue;
      }
      const key = tag.toString(16).toUpperCase().padStart(8, '0');
      if (wanted.has(key)) out[key] = data.toString('latin1', valueStart, valueStart + len).replace(/[\0 ]+$/, '').trim();
      c.o = valueStart + len;
    }
  } catch (e) {
    throw new DfaError('DICOM_PARSE_FAILED', 'data set header could not be scanned', { cause: e });
  }
  return out;
}

function header(b: Buffer, o: number, explicit: boolean, be: boolean): { len: number; valueStart: number } {
  const u16 = (p: number) => (be ? b.readUInt16BE(p) : b.readUInt16LE(p));
  const u32 = (p: number) => (be ? b.readUInt32BE(p) : b.readUInt32LE(p));
  if (!explicit) return { len: u32(o + 4), valueStart: o + 8 };
  const vr = b.toString('ascii', o + 4, o + 6);
  if (LONG_VRS.has(vr)) return { len: u32(o + 8), valueStart: o + 12 };
  return { len: u16(o + 6), valueStart: o + 8 };
}

/** Skip the items of an undefined-length element up to and including its sequence delimiter. */
function skipUndefined(b: Buffer, c: Cursor, explicit: boolean, be: boolean): void {
  const u16 = (p: number) => (be ? b.readUInt16BE(p) : b.readUInt16LE(p));
  const u32 = (p: number) => (be ? b.readUInt32BE(p) : b.readUInt32LE(p));
  while (c.o + 8 <= b.length) {
    const g = u16(c.o);
    const e = u16(c.o + 2);
    const len = u32(c.o + 4);
    c.o += 8;
    if (g === 0xfffe && e === 0xe0dd) return; // sequence delimiter
    if (g === 0xfffe && e === 0xe000) {
      if (len !== UNDEFINED) {
        c.o += len;
        continue;
      }
      // undefined-length item: elements until item delimiter
      while (c.o + 8 <= b.length) {
        const ig = u16(c.o);
        const ie = u16(c.o + 2);
        if (ig === 0xfffe && ie === 0xe00d) {
          c.o += 8;
          break;
        }
        const h = header(b, c.o, explicit && ig !== 0xfffe, be);
        c.o = h.valueStart;
        if (h.len === UNDEFINED) skipUndefined(b, c, explicit, be);
        else c.o += h.len;
      }
      continue;
    }
    throw new Error(`unexpected tag (${g.toString(16)},${e.toString(16)}) inside a sequence`);
  }
}

/**
 * Re-encode between the two uncompressed little-endian transfer syntaxes (PS3.5 A.1, A.2) when a
 * peer accepted only the other one. Returns undefined for anything else (no pixel transcoding here).
 */
export function transcodeLittleEndian(dataset: Buffer, from: string, to: string): Buffer | undefined {
  const le: string[] = [TS.IMPLICIT_LE, TS.EXPLICIT_LE];
  if (!le.includes(from) || !le.includes(to)) return undefined;
  if (from === to) return dataset;
  const ab = dataset.buffer.slice(dataset.byteOffset, dataset.byteOffset + dataset.length);
  const dict = DicomMessage._read(new ReadBufferStream(ab), from, { ignoreErrors: false, untilTag: null, includeUntilTagValue: false }) as Record<string, { vr: string }>;
  if (to === TS.EXPLICIT_LE) fixAmbiguousVrs(dict);
  const s = new WriteBufferStream();
  DicomMessage.write(dict, s, to, {});
  return Buffer.from(s.getBuffer() as ArrayBuffer);
}

/** PS3.5 A.1 / PS3.6: implicit VR leaves some VRs ambiguous ('ox', 'xs'); resolve them for explicit VR. */
function fixAmbiguousVrs(dict: Record<string, { vr: string; Value?: unknown[] }>): void {
  const first = (tag: string) => Number(dict[tag]?.Value?.[0] ?? 0);
  const signed = first('00280103') === 1;
  const bits = first('00280100');
  for (const el of Object.values(dict)) {
    if (el.vr === 'ox') el.vr = bits > 8 ? 'OW' : 'OB';
    else if (el.vr === 'xs') el.vr = signed ? 'SS' : 'US';
    else if (el.vr === 'US or SS' || el.vr === 'US or OW') el.vr = signed ? 'SS' : 'US';
    else if (el.vr === 'OB or OW') el.vr = bits > 8 ? 'OW' : 'OB';
  }
}
