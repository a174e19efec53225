/**
 * Sliding-window inference over a grid (x-fastest, like Volume): patches of the model's size, with
 * overlap, blended by a Gaussian (nnU-Net style: σ = patch/8, so patch borders, where the network
 * sees least context, count least) or a constant weight. A 2D model is the case patch z = 1.
 */
import type { Vec3 } from '../../core/volume.ts';

/** Start indices along one axis. A grid smaller than the patch gets one centred (negative) start. */
export function windowStarts(dim: number, patch: number, overlap: number): number[] {
  if (dim <= patch) return [Math.floor((dim - patch) / 2)];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; s < dim - patch; s += step) starts.push(s);
  starts.push(dim - patch);
  return starts;
}

export function blendingWeights(patch: Vec3, kind: 'gaussian' | 'constant'): Float32Array {
  const [px, py, pz] = patch;
  const w = new Float32Array(px * py * pz);
  if (kind === 'constant') return w.fill(1);
  const axis = (n: number) => {
    const a = new Float64Array(n);
    const sigma = n / 8;
    const mid = (n - 1) / 2;
    for (let i = 0; i < n; i++) a[i] = n === 1 ? 1 : Math.exp(-((i - mid) ** 2) / (2 * sigma * sigma));
    return a;
  };
  const ax = axis(px);
  const ay = axis(py);
  const az = axis(pz);
  let max = 0;
  for (let k = 0, o = 0; k < pz; k++) for (let j = 0; j < py; j++) for (let i = 0; i < px; i++, o++) max = Math.max(max, (w[o] = ax[i] * ay[j] * az[k]));
  // Floor so no voxel is weighted zero (it would otherwise get no vote where only borders cover it).
  for (let o = 0; o < w.length; o++) w[o] = Math.max(w[o] / max, 1e-3);
  return w;
}

/** Runs the network on a batch: input n × patch voxels, returns n × channels × patch probabilities. */
export type BatchRunner = (input: Float32Array, n: number) => Promise<Float32Array>;

export interface SlidingWindowOptions {
  readonly dims: Vec3; // grid size
  readonly patch: Vec3;
  readonly overlap: number;
  readonly blending: 'gaussian' | 'constant';
  readonly batchSize: number;
  readonly channels: number;
  /** Value for patch voxels outside the grid (already preprocessed). */
  readonly fill: number;
  readonly signal?: AbortSignal;
}

/** Weighted-average class probabilities on the whole grid, channel-major: probs[c * N + voxel]. */
export async function slidingWindow(image: Float32Array, run: BatchRunner, o: SlidingWindowOptions): Promise<Float32Array> {
  const [nx, ny, nz] = o.dims;
  const [px, py, pz] = o.patch;
  const n = nx * ny * nz;
  const pn = px * py * pz;
  const probs = new Float32Array(o.channels * n);
  const wsum = new Float32Array(n);
  const weights = blendingWeights(o.patch, o.blending);
  const xs = windowStarts(nx, px, o.overlap);
  const ys = windowStarts(ny, py, o.overlap);
  // A 2D model (patch z = 1) visits every slice; a 3D one slides along z too.
  const zs = pz === 1 ? Array.from({ length: nz }, (_, k) => k) : windowStarts(nz, pz, o.overlap);
  const starts: Vec3[] = [];
  for (const z of zs) for (const y of ys) for (const x of xs) starts.push([x, y, z]);

  const batch = new Float32Array(o.batchSize * pn);
  for (let b0 = 0; b0 < starts.length; b0 += o.batchSize) {
    o.signal?.throwIfAborted();
    const group = starts.slice(b0, b0 + o.batchSize);
    group.forEach((s, b) => copyPatch(image, o.dims, s, o.patch, batch, b * pn, o.fill));
    const out = await run(batch.subarray(0, group.length * pn), group.length);
    if (out.length !== group.length * o.channels * pn) {
      throw new Error(`model returned ${out.length} values, expected ${group.length} × ${o.channels} × ${pn}`);
    }
    group.forEach((s, b) => accumulate(out, b * o.channels * pn, s, o, weights, probs, wsum));
  }
  for (let c = 0; c < o.channels; c++) {
    const off = c * n;
    for (let v = 0; v < n; v++) probs[off + v] /= wsum[v];
  }
  return probs;
}

function copyPatch(image: Float32Array, dims: Vec3, s: Vec3, patch: Vec3, dst: Float32Array, off: number, fill: number): void {
  const [nx, ny, nz] = dims;
  const [px, py, pz] = patch;
  let o = off;
  for (let k = 0; k < pz; k++) {
    const z = s[2] + k;
    for (let j = 0; j < py; j++) {
      const y = s[1] + j;
      if (z < 0 || z >= nz || y < 0 || y >= ny) {
        dst.fill(fill, o, o + px);
        o += px;
        continue;
      }
      const row = y * nx + z * nx * ny;
      for (let i = 0; i < px; i++, o++) {
        const x = s[0] + i;
        dst[o] = x < 0 || x >= nx ? fill : image[row + x];
      }
    }
  }
}

function accumulate(out: Float32Array, off: number, s: Vec3, o: SlidingWindowOptions, w: Float32Array, probs: Float32Array, wsum: Float32Array): void {
  const [nx, ny, nz] = o.dims;
  const [px, py, pz] = o.patch;
  const n = nx * ny * nz;
  const pn = px * py * pz;
  for (let k = 0; k < pz; k++) {
    const z = s[2] + k;
    if (z < 0 || z >= nz) continue;
    for (let j = 0; j < py; j++) {
      const y = s[1] + j;
      if (y < 0 || y >= ny) continue;
      for (let i = 0; i < px; i++) {
        const x = s[0] + i;
        if (x < 0 || x >= nx) continue;
        const p = i + j * px + k * px * py;
        const v = x + y * nx + z * nx * ny;
        const wt = w[p];
        wsum[v] += wt;
        for (let c = 0; c < o.channels; c++) probs[c * n + v] += wt * out[off + c * pn + p];
      }
    }
  }
}
