/** Turning class probabilities into a label map, and the optional clean-up the manifest asks for. */
import type { Vec3 } from '../../core/volume.ts';

/** In place over the channel axis (probs[c * n + v]). */
export function activateInPlace(x: Float32Array, channels: number, n: number, kind: 'softmax' | 'sigmoid' | 'none'): void {
  if (kind === 'none') return;
  if (kind === 'sigmoid') {
    for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
    return;
  }
  for (let v = 0; v < n; v++) {
    let max = -Infinity;
    for (let c = 0; c < channels; c++) max = Math.max(max, x[c * n + v]);
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += x[c * n + v] = Math.exp(x[c * n + v] - max);
    for (let c = 0; c < channels; c++) x[c * n + v] /= sum;
  }
}

/**
 * Label per voxel. Softmax/none: the label of the most probable channel. Sigmoid (independent
 * channels): the most probable non-background channel above `threshold`, else 0.
 */
export function labelsFromProbs(probs: Float32Array, channelLabels: readonly number[], n: number, mode: 'exclusive' | 'sigmoid', threshold: number): Uint8Array {
  const out = new Uint8Array(n);
  const C = channelLabels.length;
  for (let v = 0; v < n; v++) {
    let best = -1;
    let bestP = mode === 'sigmoid' ? threshold : -Infinity;
    for (let c = 0; c < C; c++) {
      if (mode === 'sigmoid' && channelLabels[c] === 0) continue;
      const p = probs[c * n + v];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    out[v] = best < 0 ? 0 : channelLabels[best];
  }
  return out;
}

/** Keep only the largest 6-connected component of each label value; other voxels become 0. In place. */
export function keepLargestComponentPerLabel(labels: Uint8Array, dims: Vec3, values: readonly number[]): void {
  const [nx, ny, nz] = dims;
  const sxy = nx * ny;
  const comp = new Int32Array(labels.length); // 0 = unvisited
  const stack = new Int32Array(labels.length);
  for (const value of values) {
    comp.fill(0);
    let next = 0;
    let bestId = 0;
    let bestSize = 0;
    for (let seed = 0; seed < labels.length; seed++) {
      if (labels[seed] !== value || comp[seed] !== 0) continue;
      const id = ++next;
      let size = 0;
      let top = 0;
      stack[top++] = seed;
      comp[seed] = id;
      while (top > 0) {
        const v = stack[--top];
        size++;
        const x = v % nx;
        const y = ((v - x) / nx) % ny;
        const z = Math.floor(v / sxy);
        const visit = (u: number) => {
          if (labels[u] === value && comp[u] === 0) {
            comp[u] = id;
            stack[top++] = u;
          }
        };
        if (x > 0) visit(v - 1);
        if (x < nx - 1) visit(v + 1);
        if (y > 0) visit(v - nx);
        if (y < ny - 1) visit(v + nx);
        if (z > 0) visit(v - sxy);
        if (z < nz - 1) visit(v + sxy);
      }
      if (size > bestSize) {
        bestSize = size;
        bestId = id;
      }
    }
    for (let v = 0; v < labels.length; v++) if (labels[v] === value && comp[v] !== bestId) labels[v] = 0;
  }
}
