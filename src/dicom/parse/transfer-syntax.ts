/**
 * Transfer syntaxes we read (PS3.5 section 10 and Annex A) and how their pixel data is decoded.
 * 'native' = uncompressed (PS3.5 8.1.1), 'deflate-frame' = PS3.5 8.2.15 (each frame deflated),
 * the rest go through the dcmjs-codecs WebAssembly decoders.
 */
export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k'
  | 'jpeg-xl'
  | 'deflate-frame';

export const TS = {
  ImplicitLittle: '1.2.840.10008.1.2',
  ExplicitLittle: '1.2.840.10008.1.2.1',
  DeflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  ExplicitBig: '1.2.840.10008.1.2.2',
} as const;

interface SyntaxInfo {
  readonly name: string;
  readonly encoding: PixelEncoding;
}

const SYNTAXES: Record<string, SyntaxInfo> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian (retired)', encoding: 'native' },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encoding: 'rle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless (Process 14)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless SV1 (Process 14, Selection Value 1)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', encoding: 'jpeg2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encoding: 'jpeg2000' },
  '1.2.840.10008.1.2.4.201': { name: 'HTJ2K Lossless', encoding: 'htj2k' },
  '1.2.840.10008.1.2.4.202': { name: 'HTJ2K Lossless RPCL', encoding: 'htj2k' },
  '1.2.840.10008.1.2.4.203': { name: 'HTJ2K', encoding: 'htj2k' },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', encoding: 'jpeg-xl' },
  '1.2.840.10008.1.2.4.111': { name: 'JPEG XL JPEG Recompression', encoding: 'jpeg-xl' },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', encoding: 'jpeg-xl' },
  '1.2.840.10008.1.2.8.1': { name: 'Deflated Image Frame Compression', encoding: 'deflate-frame' },
};

export function transferSyntaxInfo(uid: string): SyntaxInfo | undefined {
  return SYNTAXES[uid];
}

export function transferSyntaxName(uid: string): string {
  return SYNTAXES[uid]?.name ?? `unknown transfer syntax ${uid}`;
}

/** Native (not encapsulated) pixel data: PS3.5 A.1–A.3 (deflate compresses the dataset, not the frames). */
export function isNativeSyntax(uid: string): boolean {
  return SYNTAXES[uid]?.encoding === 'native';
}
