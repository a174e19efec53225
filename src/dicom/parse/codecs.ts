import { createRequire } from 'node:module';
import type { PixelEncoding } from './transfer-syntax.ts';

/**
 * dcmjs-codecs' WebAssembly decoders (RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL), used frame by
 * frame. The module is CJS and initialises asynchronously once per process.
 */
interface CodecContext {
  getDecodedBuffer(): Uint8Array | undefined;
}
interface CodecsModule {
  Context: new (attrs: {
    width: number;
    height: number;
    bitsAllocated: number;
    bitsStored: number;
    samplesPerPixel: number;
    pixelRepresentation: number;
    planarConfiguration: number;
    photometricInterpretation: string;
    encodedBuffer: Uint8Array;
  }) => CodecContext;
  NativeCodecs: {
    initializeAsync(opts?: { logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>;
    isInitialized(): boolean;
    decodeRle(c: CodecContext, p?: Record<string, unknown>): CodecContext;
    decodeJpeg(c: CodecContext, p?: { convertColorspaceToRgb?: boolean }): CodecContext;
    decodeJpegLs(c: CodecContext, p?: Record<string, unknown>): CodecContext;
    decodeJpeg2000(c: CodecContext, p?: Record<string, unknown>): CodecContext;
    decodeHtJpeg2000(c: CodecContext, p?: Record<string, unknown>): CodecContext;
    decodeJpegXl(c: CodecContext, p?: Record<string, unknown>): CodecContext;
  };
  log: { setLevel(level: string): void };
}

let mod: CodecsModule | undefined;
let ready: Promise<CodecsModule> | undefined;

export function codecs(): Promise<CodecsModule> {
  ready ??= (async () => {
    const m = createRequire(import.meta.url)('dcmjs-codecs') as CodecsModule;
    m.log.setLevel('silent');
    if (!m.NativeCodecs.isInitialized()) await m.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    mod = m;
    return m;
  })();
  return ready;
}

export interface FrameDescription {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  readonly pixelRepresentation: number;
  readonly planarConfiguration: number;
  readonly photometricInterpretation: string;
}

/** Decode one compressed frame to native little-endian sample bytes. Call `codecs()` first. */
export function decodeCompressedFrame(encoding: Exclude<PixelEncoding, 'native' | 'deflate-frame'>, f: FrameDescription, encoded: Uint8Array): Uint8Array {
  if (!mod) throw new Error('codecs not initialised');
  const { Context, NativeCodecs } = mod;
  const ctx = new Context({
    width: f.columns,
    height: f.rows,
    bitsAllocated: f.bitsAllocated,
    bitsStored: f.bitsStored,
    samplesPerPixel: f.samplesPerPixel,
    pixelRepresentation: f.pixelRepresentation,
    planarConfiguration: f.planarConfiguration,
    photometricInterpretation: f.photometricInterpretation,
    encodedBuffer: encoded,
  });
  let out: CodecContext;
  switch (encoding) {
    case 'rle':
      out = NativeCodecs.decodeRle(ctx);
      break;
    case 'jpeg':
      out = NativeCodecs.decodeJpeg(ctx, { convertColorspaceToRgb: false });
      break;
    case 'jpeg-ls':
      out = NativeCodecs.decodeJpegLs(ctx);
      break;
    case 'jpeg2000':
      out = NativeCodecs.decodeJpeg2000(ctx);
      break;
    case 'htj2k':
      out = NativeCodecs.decodeHtJpeg2000(ctx);
      break;
    case 'jpeg-xl':
      out = NativeCodecs.decodeJpegXl(ctx);
      break;
  }
  const decoded = out.getDecodedBuffer();
  if (!decoded) throw new Error('decoder returned no data');
  return decoded;
}
