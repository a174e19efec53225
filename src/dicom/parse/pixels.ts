import { inflateRawSync } from 'node:zlib';
import { DfaError } from '../../core/errors.ts';
import { num, str } from './attributes.ts';
import { codecs, decodeCompressedFrame } from './codecs.ts';
import { withPixelData, type ParsedDicom } from './read-part10.ts';
import { TS, transferSyntaxInfo, transferSyntaxName } from './transfer-syntax.ts';

/** Image Pixel module attributes (PS3.3 C.7.6.3) that decoding needs. */
export interface PixelFormat {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly pixelRepresentation: 0 | 1;
  readonly photometricInterpretation: string;
  readonly planarConfiguration: 0 | 1;
  readonly numberOfFrames: number;
}

/** Stored pixel values of one frame (rows × columns × samplesPerPixel), not yet rescaled. */
export type FrameSamples = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** Frames larger than this are refused: a corrupt Rows/Columns must not make us allocate gigabytes. */
const MAX_FRAME_BYTES = 512 * 1024 * 1024;

function bad(p: ParsedDicom, reason: string, cause?: unknown): DfaError {
  return new DfaError('DICOM_PARSE_FAILED', `${p.source}: ${reason}`, { cause, details: { file: p.source } });
}

export function hasPixelData(p: ParsedDicom): boolean {
  return p.pixelDataOmitted === true || (p.dataset.PixelData !== undefined && p.dataset.PixelData !== null);
}

/**
 * Number of Frames (PS3.3 C.7.6.6), checked against the bytes actually present before anything is
 * sized by it: each frame takes at least its native size, or an 8-byte item header when encapsulated
 * (PS3.5 A.4). A header claiming a billion frames in a small file is refused, not allocated.
 */
export function frameCount(p: ParsedDicom, opts: { zeroAsOne?: boolean } = {}): number {
  let frames = num(p.dataset, 'NumberOfFrames') ?? 1;
  if (opts.zeroAsOne && Number.isFinite(frames) && frames < 1) frames = 1;
  if (!Number.isInteger(frames) || frames < 1) throw bad(p, `Number of Frames '${String(p.dataset.NumberOfFrames)}' is not a positive integer`);
  const native = transferSyntaxInfo(p.transferSyntaxUid)?.encoding === 'native';
  const ds = p.dataset;
  const nativeBytes = ((num(ds, 'Rows') ?? 0) * (num(ds, 'Columns') ?? 0) * (num(ds, 'SamplesPerPixel') ?? 1) * (num(ds, 'BitsAllocated') ?? 0)) / 8;
  const atLeast = native ? Math.max(nativeBytes, 1 / 8) : 8;
  if (frames > 1 && frames * atLeast > p.byteLength) {
    throw bad(p, `Number of Frames ${frames} does not fit the ${p.byteLength} bytes of the file`);
  }
  return frames;
}

export function pixelFormat(p: ParsedDicom): PixelFormat {
  const ds = p.dataset;
  const rows = num(ds, 'Rows');
  const columns = num(ds, 'Columns');
  const bitsAllocated = num(ds, 'BitsAllocated');
  if (!rows || !columns || !bitsAllocated) throw bad(p, 'Rows, Columns or Bits Allocated missing or zero (PS3.3 C.7.6.3)');
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw bad(p, `Bits Allocated ${bitsAllocated} is not supported`);
  const bitsStored = num(ds, 'BitsStored') ?? bitsAllocated;
  const spp = num(ds, 'SamplesPerPixel') ?? 1;
  const frames = frameCount(p);
  if (spp !== 1 && spp !== 3) throw bad(p, `Samples per Pixel ${spp} is not supported`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw bad(p, `Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}`);
  const frameBytes = (rows * columns * spp * bitsAllocated) / 8;
  if (frameBytes > MAX_FRAME_BYTES) throw bad(p, `frame of ${rows}×${columns}×${spp}×${bitsAllocated} bits is implausibly large`);
  return {
    rows,
    columns,
    samplesPerPixel: spp,
    bitsAllocated,
    bitsStored,
    pixelRepresentation: num(ds, 'PixelRepresentation') === 1 ? 1 : 0,
    photometricInterpretation: str(ds, 'PhotometricInterpretation') ?? 'MONOCHROME2',
    planarConfiguration: num(ds, 'PlanarConfiguration') === 1 ? 1 : 0,
    numberOfFrames: frames,
  };
}

function toBytes(x: unknown): Uint8Array | undefined {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** Samples of one frame as the typed array its Bits Allocated / Pixel Representation call for. */
function typedSamples(bytes: Uint8Array, f: PixelFormat, count: number): FrameSamples {
  const signed = f.pixelRepresentation === 1;
  // Plain typed-array views (never Buffer: its slice() is a view, and fitBitsStored relies on slice() copying).
  if (f.bitsAllocated === 8) return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count);
  const size = f.bitsAllocated / 8;
  // Typed-array views need aligned offsets; copy only when the buffer is misaligned.
  const b = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes.subarray(0, count * size)); // a copy (Buffer#slice would be a view)
  if (f.bitsAllocated === 16) return signed ? new Int16Array(b.buffer, b.byteOffset, count) : new Uint16Array(b.buffer, b.byteOffset, count);
  return signed ? new Int32Array(b.buffer, b.byteOffset, count) : new Uint32Array(b.buffer, b.byteOffset, count);
}

/**
 * PS3.5 8.1.1: bits above High Bit may hold other data (old overlays); mask them, and sign-extend
 * signed values stored in fewer bits than allocated. Copies only when a value needs changing.
 */
function fitBitsStored(s: FrameSamples, f: PixelFormat): FrameSamples {
  if (f.bitsStored >= f.bitsAllocated || f.bitsAllocated === 1) return s;
  const bs = f.bitsStored;
  const mask = bs >= 32 ? 0xffffffff : 2 ** bs - 1;
  if (f.pixelRepresentation === 0) {
    let dirty = false;
    for (let i = 0; i < s.length; i++) if (s[i] > mask) { dirty = true; break; }
    if (!dirty) return s;
    const out = s.slice();
    for (let i = 0; i < out.length; i++) out[i] = out[i] & mask;
    return out;
  }
  const shift = 32 - bs;
  const lo = -(2 ** (bs - 1));
  const hi = 2 ** (bs - 1) - 1;
  let dirty = false;
  for (let i = 0; i < s.length; i++) if (s[i] < lo || s[i] > hi) { dirty = true; break; }
  if (!dirty) return s;
  const out = s.slice();
  for (let i = 0; i < out.length; i++) out[i] = ((out[i] & mask) << shift) >> shift;
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + size <= bytes.length; i += size) for (let k = 0; k < size; k++) out[i + k] = bytes[i + size - 1 - k];
  return out;
}

/** PS3.5 8.1.1: 1-bit data is packed, little-endian bit order, frames not byte-aligned. */
function unpackBits(bytes: Uint8Array, startBit: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = startBit + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

/** Split encapsulated fragments into frames (PS3.5 A.4) when dcmjs had no Basic Offset Table. */
function framesFromFragments(p: ParsedDicom, items: unknown[], nFrames: number): Uint8Array[] {
  const asFrames = items.map((it) => (Array.isArray(it) ? concat(it.map(toBytes).filter((b): b is Uint8Array => !!b)) : toBytes(it)));
  if (asFrames.some((b) => !b)) throw bad(p, 'encapsulated Pixel Data holds something that is not bytes');
  const frags = asFrames as Uint8Array[];
  if (frags.length === nFrames) return frags;
  if (nFrames === 1) return [concat(frags)];
  // JPEG family frames start with SOI (FFD8) or J2K SOC (FF4F); group fragments at those markers.
  const out: Uint8Array[][] = [];
  for (const f of frags) {
    const starts = f.length >= 2 && f[0] === 0xff && (f[1] === 0xd8 || f[1] === 0x4f);
    if (starts || out.length === 0) out.push([f]);
    else out[out.length - 1].push(f);
  }
  if (out.length !== nFrames) throw bad(p, `cannot split ${frags.length} pixel data fragments into ${nFrames} frames`);
  return out.map(concat);
}

/** PS3.3 C.7.6.3.1.2: native YBR_FULL_422 stores Y1 Y2 Cb Cr per pixel pair; expand to 3 samples. */
function nativeYbr422(p: ParsedDicom, f: PixelFormat, all: Uint8Array): Uint8Array[] {
  const pixels = f.rows * f.columns;
  if (all.length < pixels * 2 * f.numberOfFrames) throw bad(p, `truncated Pixel Data: ${all.length} bytes, expected ${pixels * 2 * f.numberOfFrames}`);
  const frames: Uint8Array[] = [];
  for (let k = 0; k < f.numberOfFrames; k++) {
    const src = all.subarray(k * pixels * 2);
    const out = new Uint8Array(pixels * 3);
    for (let i = 0, s = 0; i + 1 < pixels + 1 && s + 3 < src.length + 1; i += 2, s += 4) {
      const cb = src[s + 2];
      const cr = src[s + 3];
      out.set([src[s], cb, cr], i * 3);
      if (i + 1 < pixels) out.set([src[s + 1], cb, cr], (i + 1) * 3);
    }
    frames.push(out);
  }
  return frames;
}

/**
 * Decode every frame to stored values (before Rescale Slope/Intercept). Native data becomes typed
 * views on the file's buffer where possible; compressed data goes through dcmjs-codecs.
 */
export async function decodeFrames(instance: ParsedDicom): Promise<{ format: PixelFormat; frames: FrameSamples[] }> {
  const p = instance.pixelDataOmitted ? await withPixelData(instance) : instance;
  const raw = p.dataset.PixelData;
  if (raw === undefined || raw === null) {
    const other = p.dataset.FloatPixelData !== undefined || p.dataset.DoubleFloatPixelData !== undefined;
    throw new DfaError('DICOM_NO_PIXEL_DATA', `${p.source}: no Pixel Data (7FE0,0010)${other ? ' (float pixel data is not supported)' : ''}`, { details: { file: p.source } });
  }
  const f = pixelFormat(p);
  const info = transferSyntaxInfo(p.transferSyntaxUid);
  if (!info) {
    throw new DfaError('DICOM_UNSUPPORTED_TRANSFER_SYNTAX', `${p.source}: ${transferSyntaxName(p.transferSyntaxUid)} is not supported`, { details: { file: p.source, transferSyntaxUid: p.transferSyntaxUid } });
  }
  const perFrame = f.rows * f.columns * f.samplesPerPixel;
  const frameBytes = Math.ceil((perFrame * f.bitsAllocated) / 8);
  const items = Array.isArray(raw) ? raw : [raw];
  const frames: FrameSamples[] = [];
  if (info.encoding === 'native' && f.photometricInterpretation === 'YBR_FULL_422' && f.samplesPerPixel === 3 && f.bitsAllocated === 8) {
    return { format: f, frames: nativeYbr422(p, f, concat(items.map(toBytes).filter((b): b is Uint8Array => !!b))) };
  }
  if (info.encoding === 'native') {
    const all = concat(items.map(toBytes).filter((b): b is Uint8Array => !!b));
    const needBits = perFrame * f.numberOfFrames * f.bitsAllocated;
    if (all.length * 8 < needBits) throw bad(p, `truncated Pixel Data: ${all.length} bytes, expected ${Math.ceil(needBits / 8)}`);
    const swapped = p.transferSyntaxUid === TS.ExplicitBig && f.bitsAllocated > 8 ? swapBytes(all, f.bitsAllocated / 8) : all;
    for (let k = 0; k < f.numberOfFrames; k++) {
      if (f.bitsAllocated === 1) frames.push(unpackBits(swapped, k * perFrame, perFrame));
      else frames.push(fitBitsStored(typedSamples(swapped.subarray(k * frameBytes, (k + 1) * frameBytes), f, perFrame), f));
    }
    return { format: f, frames };
  }
  const encoded = framesFromFragments(p, items, f.numberOfFrames);
  if (info.encoding !== 'deflate-frame') await codecs();
  for (let k = 0; k < f.numberOfFrames; k++) {
    let bytes: Uint8Array;
    try {
      // A deflated frame inflates to one frame (PS3.5 8.2.16), not to whatever its bytes claim.
      bytes = info.encoding === 'deflate-frame' ? inflateRawSync(encoded[k], { maxOutputLength: frameBytes + 2 }) : decodeCompressedFrame(info.encoding, f, encoded[k]);
    } catch (e) {
      throw bad(p, `cannot decode frame ${k + 1} (${info.name}): ${e instanceof Error ? e.message : String(e)}`, e);
    }
    if (bytes.length < frameBytes) throw bad(p, `frame ${k + 1} decoded to ${bytes.length} bytes, expected ${frameBytes} (${info.name})`);
    if (f.bitsAllocated === 1) frames.push(unpackBits(bytes, 0, perFrame));
    else frames.push(fitBitsStored(typedSamples(bytes, f, perFrame), f));
  }
  return { format: f, frames };
}
