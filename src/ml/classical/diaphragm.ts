import type { VolumeGeometry } from '../../core/volume.ts';

/**
 * The diaphragm under one lung, as a smooth surface z = f(x, y) (LPS mm), fitted to the lowest
 * aerated voxel of every (i, j) column that has tissue beneath it. The dome is smooth and the
 * aerated lung's base lies on it except where something dense sits between them (consolidation
 * or atelectasis of a lower lobe, an effusion) or where the lung rests on the heart: those columns
 * end too high. So the fit is a lower envelope: a quadratic in (x, y) by asymmetric least squares. Used only to stop dense-lung recovery at the diaphragm.
 */
export interface Diaphragm {
  /** Height (LPS z, mm) of the lung's floor under (x, y). */
  z(x: number, y: number): number;
  readonly points: number;
  /** Share of the points that ended well above the surface (dense lung or heart under aerated lung). */
  readonly aboveShare: number;
  /** The sample points (x, y, z), for fitting the other side's dome against this one. */
  readonly samples: { readonly xs: number[]; readonly ys: number[]; readonly zs: number[] };
}

/**
 * When most of one side's base is dense (its own fit has little to stand on), its dome is taken
 * as the other side's, mirrored about the midline and shifted. This side's columns end at or above
 * its own dome, so the 2nd percentile of their residuals against the mirrored dome bounds the shift
 * from above (tight when a few columns are still aerated down to the dome). Where no column gets
 * that low, the bound says little and the usual anatomy decides: the right dome lies higher than
 * the left, by `expectedMm` (own minus other: −DOME_DIFFERENCE_MM for the left, + for the right).
 * The shift is the lower of the two, within ±MAX_DOME_SHIFT_MM. The mirror is scaled by the two
 * bases' widths (`mirrorX`): the right lung is usually the wider one, and a plain reflection puts a
 * lateral point of the one dome on a steeper, higher part of the other.
 */
export function mirroredDiaphragm(other: Diaphragm, own: Diaphragm, midlineX: number, expectedMm: number): Diaphragm {
  const toOther = mirrorX(own, other, midlineX);
  const res = own.samples.xs.map((x, q) => own.samples.zs[q] - other.z(toOther(x), own.samples.ys[q])).sort((a, b) => a - b);
  const bound = res[Math.floor(0.02 * (res.length - 1))];
  const shift = Math.max(-MAX_DOME_SHIFT_MM, Math.min(MAX_DOME_SHIFT_MM, bound, expectedMm));
  return { ...own, z: (x, y) => other.z(toOther(x), y) + shift };
}

/**
 * LPS x on the other side's base that corresponds to x on this side's: reflected about the
 * midline and scaled by the ratio of the bases' half-widths (98th percentile of the distance of
 * their columns from the midline, so a stray column does not set it).
 */
export function mirrorX(own: Diaphragm, other: Diaphragm, midlineX: number): (x: number) => number {
  const a = halfWidth(own, midlineX);
  const b = halfWidth(other, midlineX);
  const s = a > 0 && b > 0 ? b / a : 1;
  return (x) => midlineX - (x - midlineX) * s;
}

function halfWidth(d: Diaphragm, midlineX: number): number {
  const w = d.samples.xs.map((x) => Math.abs(x - midlineX)).sort((p, q) => p - q);
  return w.length > 0 ? w[Math.floor(0.98 * (w.length - 1))] : 0;
}

export function fitDiaphragm(labels: Uint8Array, hu: Int16Array, g: VolumeGeometry, value: number, lungHu: number): Diaphragm | undefined {
  const [nx, ny, nz] = g.dims;
  const sxy = nx * ny;
  const [r, c, s] = g.direction;
  const at = (i: number, j: number, k: number, a: number) => g.origin[a] + i * g.spacing[0] * r[a] + j * g.spacing[1] * c[a] + k * g.spacing[2] * s[a];
  const down = s[2] > 0 ? -1 : 1; // k step towards the feet
  const xs: number[] = [];
  const ys: number[] = [];
  const zs: number[] = [];
  let zMin = Infinity;
  const half = Math.abs(g.spacing[2] * s[2]) / 2;
  // most inferior labelled voxel of every column, slice by slice from the feet (memory order)
  const lowest = new Int32Array(sxy).fill(-1);
  for (let n = 0; n < nz; n++) {
    const k = down < 0 ? n : nz - 1 - n;
    const off = k * sxy;
    for (let q = 0; q < sxy; q++) if (lowest[q] < 0 && labels[off + q] === value) lowest[q] = k;
  }
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const p0 = i + j * nx;
      const k = lowest[p0];
      if (k < 0) continue;
      const z = at(i, j, k, 2);
      if (z < zMin) zMin = z;
      const kb = k + down;
      if (kb >= 0 && kb < nz && hu[p0 + kb * sxy] > lungHu) {
        xs.push(at(i, j, k, 0));
        ys.push(at(i, j, k, 1));
        // the surface lies between this voxel's centre and the tissue below: half a slice lower
        zs.push(z - half);
      }
    }
  }
  if (xs.length < 12) return undefined;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sc = 100; // mm: keeps the normal equations well scaled
  const basis = (x: number, y: number) => {
    const u = (x - mx) / sc;
    const v = (y - my) / sc;
    return [1, u, v, u * u, u * v, v * v];
  };
  /** The fitted quadratic, without allocating (it runs per candidate voxel). */
  const evaluate = (cf: readonly number[], x: number, y: number) => {
    const u = (x - mx) / sc;
    const v = (y - my) / sc;
    return cf[0] + u * (cf[1] + u * cf[3] + v * cf[4]) + v * (cf[2] + v * cf[5]);
  };
  // asymmetric least squares (Eilers' baseline fit): points above the surface weigh little, so it
  // settles on the lower envelope; consolidated columns and the heart's top are above it
  const tol = Math.max(3, Math.abs(g.spacing[2]));
  let w = xs.map(() => 1);
  let coef: number[] | undefined;
  for (let it = 0; it < 20; it++) {
    const A = Array.from({ length: 6 }, () => new Float64Array(7));
    for (let q = 0; q < xs.length; q++) {
      const b = basis(xs[q], ys[q]);
      for (let a = 0; a < 6; a++) {
        for (let d = 0; d < 6; d++) A[a][d] += w[q] * b[a] * b[d];
        A[a][6] += w[q] * b[a] * zs[q];
      }
    }
    const sol = solve(A);
    if (!sol) break;
    coef = sol;
    const next = xs.map((x, q) => (zs[q] - dot(sol, basis(x, ys[q])) > tol ? ABOVE_WEIGHT : 1));
    if (next.every((v, q) => v === w[q])) break;
    w = next;
  }
  if (!coef) return undefined;
  const cf = coef;
  // never below the lowest aerated lung by more than a few centimetres (extrapolation guard)
  const floor = zMin - 15;
  const above = w.filter((v) => v !== 1).length / w.length;
  return { z: (x, y) => Math.max(floor, evaluate(cf, x, y)), points: xs.length, aboveShare: above, samples: { xs, ys, zs } };
}

/** Weight of a point more than `tol` above the surface. */
const ABOVE_WEIGHT = 0.01;

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Gaussian elimination with partial pivoting on an augmented n×(n+1) system. */
function solve(A: Float64Array[]): number[] | undefined {
  const n = A.length;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r][col]) > Math.abs(A[piv][col])) piv = r;
    if (Math.abs(A[piv][col]) < 1e-9) return undefined;
    [A[col], A[piv]] = [A[piv], A[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r][col] / A[col][col];
      for (let d = col; d <= n; d++) A[r][d] -= f * A[col][d];
    }
  }
  return A.map((row, i) => row[n] / row[i]);
}

/** Largest height difference between the two domes assumed when mirroring (mm). */
export const MAX_DOME_SHIFT_MM = 15;

/**
 * How much higher the right dome usually lies than the left (mm): 1.5–2 cm in most adults, the
 * liver beneath it (Felson, Principles of Chest Roentgenology; the left is the higher in about 10 %).
 * Used only when a side's own columns give no tighter bound (mirroredDiaphragm).
 */
export const DOME_DIFFERENCE_MM = 15;
