/**
 * Run-length encoding of a label map's bytes for the checkpoint artifact: a lung label map is a
 * few runs per row, so 78 MB of voxels (512×512×300) become a few MB on disk. Format: repeated
 * [value: u8][run length: u32 LE]; runs never exceed 2^32 − 1 voxels (longer ones are split).
 */
import { DfaError } from './errors.ts';

const MAX_RUN = 0xffffffff;

export function encodeLabelRuns(data: Uint8Array): Uint8Array {
  let out = new Uint8Array(Math.max(64, data.length >>> 6));
  let dv = new DataView(out.buffer);
  let o = 0;
  // Four voxels at a time through a 32-bit view where the run goes on (most voxels are in long runs).
  const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2) : undefined;
  let i = 0;
  while (i < data.length) {
    const v = data[i];
    const start = i;
    i++;
    if (words) {
      const w = v * 0x01010101;
      while (i % 4 !== 0 && i < data.length && data[i] === v) i++;
      if (i % 4 === 0) while (i >>> 2 < words.length && words[i >>> 2] === w) i += 4;
    }
    while (i < data.length && data[i] === v) i++;
    for (let left = i - start; left > 0; left -= MAX_RUN) {
      if (o + 5 > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
        dv = new DataView(out.buffer);
      }
      out[o] = v;
      dv.setUint32(o + 1, Math.min(left, MAX_RUN), true);
      o += 5;
    }
  }
  return out.slice(0, o);
}

/** Inverse of encodeLabelRuns; `voxels` is the expected length (a mismatch is a damaged artifact). */
export function decodeLabelRuns(rle: Uint8Array, voxels: number, what: string): Uint8Array {
  if (rle.length % 5 !== 0) throw new DfaError('ARTIFACT_NOT_FOUND', `${what}: damaged label runs (${rle.length} bytes is not a whole number of runs)`);
  const out = new Uint8Array(voxels);
  const dv = new DataView(rle.buffer, rle.byteOffset, rle.byteLength);
  let o = 0;
  for (let r = 0; r < rle.length; r += 5) {
    const n = dv.getUint32(r + 1, true);
    if (o + n > voxels) throw new DfaError('ARTIFACT_NOT_FOUND', `${what}: damaged label runs (more than ${voxels} voxels)`);
    out.fill(rle[r], o, o + n);
    o += n;
  }
  if (o !== voxels) throw new DfaError('ARTIFACT_NOT_FOUND', `${what}: damaged label runs (${o} of ${voxels} voxels)`);
  return out;
}
