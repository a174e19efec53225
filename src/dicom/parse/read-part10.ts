import { inflateRawSync } from 'node:zlib';
import { open, readFile } from 'node:fs/promises';
import { DfaError } from '../../core/errors.ts';
import { dcmjs, type NaturalDataset } from './dcmjs.ts';
import { checkDatasetExtent, type PixelDataLocation } from './extent.ts';
import { TS, transferSyntaxInfo, transferSyntaxName } from './transfer-syntax.ts';

/** One DICOM instance, parsed: file meta and dataset naturalized by dcmjs (keyword → value). */
export interface ParsedDicom {
  /** File path, or a caller-given label for buffers; every error names it. */
  readonly source: string;
  readonly transferSyntaxUid: string;
  readonly meta: NaturalDataset;
  /** The dataset; PixelData (if any) stays raw: one buffer (native) or one per frame/fragment list. */
  readonly dataset: NaturalDataset;
  readonly byteLength: number;
  /** Things we repaired on the way in (e.g. a file without a Part 10 header). */
  readonly notes: readonly string[];
  /**
   * Read by `readDicomHeader`: the file has Pixel Data but it was not kept (to hold many headers
   * in memory); `decodeFrames` reads the file again when it needs the pixels.
   */
  readonly pixelDataOmitted?: boolean;
}



/** Files larger than this are refused before reading (a CT slice is < 1 MB, an Enhanced CT < 2 GB). */
export const MAX_DICOM_FILE_BYTES = 2 * 1024 ** 3;

export async function readDicomFile(path: string): Promise<ParsedDicom> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const why = (e as { code?: string }).code === 'ERR_FS_FILE_TOO_LARGE' ? `larger than the ${MAX_DICOM_FILE_BYTES}-byte limit` : `cannot read file (${(e as Error).message})`;
    throw new DfaError('DICOM_PARSE_FAILED', `${path}: ${why}`, { cause: e, details: { file: path } });
  }
  if (buf.length > MAX_DICOM_FILE_BYTES) {
    throw new DfaError('DICOM_PARSE_FAILED', `${path}: ${buf.length} bytes is larger than the ${MAX_DICOM_FILE_BYTES}-byte limit`, { details: { file: path } });
  }
  return parseDicom(buf, path);
}

/** How much of a file readDicomHeader reads first: CT headers are a few KB. */
const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * The attributes of a file without keeping its Pixel Data (for holding the headers of a whole
 * study): reads the first 64 KB when native Pixel Data starts there, else the whole file.
 * `decodeFrames` re-reads the file (fully checked, truncation included) when it needs the pixels.
 */
export async function readDicomHeader(path: string): Promise<ParsedDicom> {
  let head: Uint8Array | undefined;
  let size: number;
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      if (size > HEADER_PROBE_BYTES) {
        head = new Uint8Array(HEADER_PROBE_BYTES);
        const { bytesRead } = await fh.read(head, 0, HEADER_PROBE_BYTES, 0);
        head = head.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new DfaError('DICOM_PARSE_FAILED', `${path}: cannot read file (${(e as Error).message})`, { cause: e, details: { file: path } });
  }
  if (head) {
    try {
      const p = parseDicom(head, path, { fileSize: size });
      if (p.pixelDataOmitted) return p;
    } catch {
      // Header longer than the probe, encapsulated pixels, an odd file: read it whole below.
    }
  }
  const p = await readDicomFile(path);
  if (p.dataset.PixelData === undefined || p.dataset.PixelData === null) return p;
  const { PixelData: _dropped, ...header } = p.dataset;
  return { ...p, dataset: header, pixelDataOmitted: true };
}

/**
 * The instance with its Pixel Data back (after readDicomHeader): re-reads the file; for native
 * pixels only the structural walk runs (the header parsed before is kept), else a full parse.
 */
export async function withPixelData(p: ParsedDicom): Promise<ParsedDicom> {
  if (!p.pixelDataOmitted) return p;
  let buf: Buffer;
  try {
    buf = await readFile(p.source);
  } catch (e) {
    throw new DfaError('DICOM_PARSE_FAILED', `${p.source}: cannot read file again for its pixels (${(e as Error).message})`, { cause: e, details: { file: p.source } });
  }
  const native = p.transferSyntaxUid !== TS.DeflatedExplicitLittle && transferSyntaxInfo(p.transferSyntaxUid)?.encoding === 'native';
  const hasPreamble = buf.length >= 132 && buf[128] === 0x44 && buf[129] === 0x49 && buf[130] === 0x43 && buf[131] === 0x4d;
  if (native && hasPreamble && buf.length === p.byteLength) {
    const scan = scanFileMeta(buf, p.source);
    if (scan.tsUid === p.transferSyntaxUid && scan.groupLengthOk) {
      const verdict = checkDatasetExtent(buf, scan.datasetStart, p.transferSyntaxUid !== TS.ExplicitBig, p.transferSyntaxUid === TS.ImplicitLittle);
      if (verdict.kind === 'truncated') throw fail(p.source, `truncated file: element ${verdict.tag} declares ${verdict.need} bytes but only ${verdict.have} remain`);
      if (verdict.kind === 'ok' && verdict.pixelData) {
        const { valueStart, length } = verdict.pixelData;
        return { ...p, dataset: { ...p.dataset, PixelData: [buf.subarray(valueStart, valueStart + length)] }, pixelDataOmitted: false };
      }
    }
  }
  return parseDicom(buf, p.source);
}

const VRS = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

function fail(source: string, reason: string, cause?: unknown): DfaError {
  return new DfaError('DICOM_PARSE_FAILED', `${source}: ${reason}`, { cause, details: { file: source } });
}

/** Where the dataset starts and which transfer syntax the file meta (PS3.10 7.1) names, read by hand. */
function scanFileMeta(bytes: Uint8Array, source: string): { datasetStart: number; tsUid?: string; groupLengthOk: boolean } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 132;
  let tsUid: string | undefined;
  let groupLength: number | undefined;
  while (off + 8 <= bytes.length && dv.getUint16(off, true) === 0x0002) {
    const element = dv.getUint16(off + 2, true);
    const vr = String.fromCharCode(bytes[off + 4], bytes[off + 5]);
    if (!VRS.has(vr)) throw fail(source, `file meta element (0002,${element.toString(16).padStart(4, '0')}) has bad VR '${vr}'`);
    let len: number;
    let head: number;
    if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
      if (off + 12 > bytes.length) throw fail(source, 'truncated in the file meta information');
      len = dv.getUint32(off + 8, true);
      head = 12;
    } else {
      len = dv.getUint16(off + 6, true);
      head = 8;
    }
    if (len === 0xffffffff || off + head + len > bytes.length) throw fail(source, 'truncated or corrupt file meta information');
    if (element === 0x0000 && len === 4) groupLength = dv.getUint32(off + head, true);
    if (element === 0x0010) tsUid = new TextDecoder().decode(bytes.subarray(off + head, off + head + len)).replace(/[\0 ]+$/, '');
    off += head + len;
  }
  // dcmjs trusts (0002,0000) File Meta Information Group Length; a wrong or missing one misreads the file.
  return { datasetStart: off, tsUid, groupLengthOk: groupLength === off - 144 };
}

/** Guess the transfer syntax of a bare dataset (no Part 10 header) from its first element. */
function guessSyntax(bytes: Uint8Array, off: number): string | undefined {
  if (off + 8 > bytes.length) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groupLE = dv.getUint16(off, true);
  const groupBE = dv.getUint16(off, false);
  const vr = String.fromCharCode(bytes[off + 4], bytes[off + 5]);
  const explicit = VRS.has(vr);
  // Datasets start with a low group number (0008 usually); that tells the byte order.
  if (groupLE >= 0x0002 && groupLE <= 0x00ff) return explicit ? TS.ExplicitLittle : TS.ImplicitLittle;
  if (groupBE >= 0x0002 && groupBE <= 0x00ff && explicit) return TS.ExplicitBig;
  return undefined;
}

/** Build a minimal Part 10 header (PS3.10 7.1) in front of a bare dataset so dcmjs can read it. */
function withSyntheticMeta(dataset: Uint8Array, tsUid: string): Uint8Array {
  const ts = tsUid.length % 2 === 1 ? tsUid + '\0' : tsUid;
  const tsElement = 8 + ts.length;
  const out = new Uint8Array(132 + 12 + tsElement + dataset.length);
  const dv = new DataView(out.buffer);
  out.set([0x44, 0x49, 0x43, 0x4d], 128); // 'DICM'
  let o = 132;
  dv.setUint16(o, 0x0002, true);
  dv.setUint16(o + 2, 0x0000, true);
  out.set([0x55, 0x4c], o + 4); // UL
  dv.setUint16(o + 6, 4, true);
  dv.setUint32(o + 8, tsElement, true);
  o += 12;
  dv.setUint16(o, 0x0002, true);
  dv.setUint16(o + 2, 0x0010, true);
  out.set([0x55, 0x49], o + 4); // UI
  dv.setUint16(o + 6, ts.length, true);
  for (let i = 0; i < ts.length; i++) out[o + 8 + i] = ts.charCodeAt(i);
  out.set(dataset, o + tsElement);
  return out;
}

/** dcmjs read + naturalize of a whole Part 10 buffer; faults become DICOM_PARSE_FAILED naming `source`. */
function readAndNaturalize(ab: ArrayBuffer, source: string, notes: string[]): { meta: NaturalDataset; dataset: NaturalDataset } {
  const { data } = dcmjs();
  let dict;
  try {
    try {
      dict = data.DicomMessage.readFile(ab, { ignoreErrors: false, noCopy: true, untilTag: null, includeUntilTagValue: false, forceStoreRaw: false });
    } catch (e) {
      // dcmjs refuses ISO 2022 code extensions (e.g. Japanese 'ISO 2022 IR 13\ISO 2022 IR 87'). The
      // image does not depend on them: in its lenient mode dcmjs decodes text with the first one.
      if (!/character set/i.test(e instanceof Error ? e.message : '')) throw e;
      notes.push(`Specific Character Set not fully supported (${e instanceof Error ? e.message : ''}); text decoded with the first character set`);
      dict = data.DicomMessage.readFile(ab, { ignoreErrors: true, noCopy: true, untilTag: null, includeUntilTagValue: false, forceStoreRaw: false });
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const truncated = e instanceof RangeError || /outside the bounds|out of range|beyond|end of buffer|past end|more than currently allocated|Invalid typed array length/i.test(msg);
    throw fail(source, truncated ? `truncated or corrupt DICOM data (${msg})` : `cannot parse DICOM data (${msg})`, e);
  }
  try {
    return { meta: data.DicomMetaDictionary.naturalizeDataset(dict.meta), dataset: data.DicomMetaDictionary.naturalizeDataset(dict.dict) };
  } catch (e) {
    throw fail(source, `cannot interpret DICOM attributes (${e instanceof Error ? e.message : String(e)})`, e);
  }
}

/**
 * Parse a Part 10 file (or a bare dataset without the 128-byte preamble, as some old systems
 * write) from memory. Never throws anything but a DfaError that names `source`.
 */
export function parseDicom(buf: Uint8Array, source = '<buffer>', opts: { fileSize?: number; maxInflatedBytes?: number } = {}): ParsedDicom {
  const notes: string[] = [];
  if (buf.length < 8) throw fail(source, `not a DICOM file (only ${buf.length} bytes)`);
  const hasPreamble = buf.length >= 132 && buf[128] === 0x44 && buf[129] === 0x49 && buf[130] === 0x43 && buf[131] === 0x4d;
  if (!hasPreamble && buf[0] === 0x02 && buf[1] === 0x00) {
    // File meta without the 128-byte preamble and 'DICM' prefix: add them (PS3.10 7.1).
    const withPreamble = new Uint8Array(132 + buf.length);
    withPreamble.set([0x44, 0x49, 0x43, 0x4d], 128);
    withPreamble.set(buf, 132);
    const parsed = parseDicom(withPreamble, source);
    return { ...parsed, byteLength: buf.length, notes: ['no preamble before the file meta', ...parsed.notes] };
  }
  let bytes = buf;
  let tsUid: string | undefined;
  if (hasPreamble) {
    const scan = scanFileMeta(buf, source);
    tsUid = scan.tsUid;
    if (!tsUid) {
      tsUid = guessSyntax(buf, scan.datasetStart);
      if (!tsUid) throw fail(source, 'file meta has no Transfer Syntax UID (0002,0010) and the dataset encoding is not recognisable');
      notes.push(`file meta has no Transfer Syntax UID; guessed ${transferSyntaxName(tsUid)}`);
      bytes = withSyntheticMeta(buf.subarray(scan.datasetStart), tsUid);
    } else if (!scan.groupLengthOk) {
      notes.push('file meta group length (0002,0000) missing or wrong; rebuilt the file meta');
      bytes = withSyntheticMeta(buf.subarray(scan.datasetStart), tsUid);
    }
  } else {
    tsUid = guessSyntax(buf, 0);
    if (!tsUid) throw fail(source, "not a DICOM file (no 'DICM' prefix at byte 128 and no recognisable dataset)");
    notes.push(`no Part 10 header; read as a bare dataset in ${transferSyntaxName(tsUid)}`);
    bytes = withSyntheticMeta(buf, tsUid);
  }
  if (!transferSyntaxInfo(tsUid) && !notes.length) {
    // Still parse the header (a caller may only need attributes); pixel decoding refuses it later.
    notes.push(`transfer syntax ${tsUid} is not supported for pixel data`);
  }
  let nativePixels: PixelDataLocation | undefined;
  if (tsUid !== TS.DeflatedExplicitLittle) {
    const datasetStart = scanFileMeta(bytes, source).datasetStart;
    const verdict = checkDatasetExtent(bytes, datasetStart, tsUid !== TS.ExplicitBig, tsUid === TS.ImplicitLittle);
    if (verdict.kind === 'truncated') {
      // A deliberately partial read (readDicomHeader): native Pixel Data running to within the file is expected.
      const v = verdict;
      if (opts.fileSize !== undefined && bytes === buf && v.tag === '(7FE0,0010)' && v.elementStart !== undefined && v.valueStart !== undefined && v.valueStart + v.need <= opts.fileSize) {
        const header = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + v.elementStart) as ArrayBuffer;
        const parsed = readAndNaturalize(header, source, notes);
        return { source, transferSyntaxUid: tsUid, meta: parsed.meta, dataset: parsed.dataset, byteLength: opts.fileSize, notes, pixelDataOmitted: true };
      }
      throw fail(source, `truncated file: element ${verdict.tag} declares ${verdict.need} bytes but only ${verdict.have} remain`);
    }
    if (verdict.kind === 'ok') nativePixels = verdict.pixelData;
  }
  // Fast path for native Pixel Data found by the walk: dcmjs parses only the header (a few KB,
  // copied) and Pixel Data is a zero-copy view on the file's bytes.
  if (nativePixels) {
    const header = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + nativePixels.elementStart) as ArrayBuffer;
    const parsed = readAndNaturalize(header, source, notes);
    parsed.dataset.PixelData = [bytes.subarray(nativePixels.valueStart, nativePixels.valueStart + nativePixels.length)];
    return { source, transferSyntaxUid: tsUid, meta: parsed.meta, dataset: parsed.dataset, byteLength: buf.length, notes };
  }
  // dcmjs reads explicit/implicit/big endian and inflates deflated datasets itself, without a bound:
  // check first that the data set inflates to at most MAX_INFLATED_BYTES (a deflate bomb is refused).
  if (tsUid === TS.DeflatedExplicitLittle) checkInflatedSize(bytes, source, opts.maxInflatedBytes ?? MAX_INFLATED_BYTES);
  // dcmjs wants an ArrayBuffer: use the buffer's own when it holds exactly this file (fs.readFile does), else copy.
  const ab =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const { meta, dataset } = readAndNaturalize(ab, source, notes);
  if (tsUid === TS.DeflatedExplicitLittle) notes.push('dataset was deflated');
  return { source, transferSyntaxUid: tsUid, meta, dataset, byteLength: buf.length, notes };
}

/** Largest inflated Deflated Explicit VR Little Endian data set we read (PS3.5 A.5): a 1 KiB bomb can inflate to 1 MiB. */
export const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

function checkInflatedSize(bytes: Uint8Array, source: string, max: number): void {
  const start = scanFileMeta(bytes, source).datasetStart;
  try {
    inflateRawSync(bytes.subarray(start), { maxOutputLength: max });
  } catch (e) {
    const tooBig = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw fail(source, tooBig ? `deflated data set inflates to more than ${Math.round(max / 1048576)} MiB` : `deflated data set does not inflate: ${(e as Error).message}`);
  }
}
