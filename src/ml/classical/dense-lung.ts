import type { VolumeGeometry } from '../../core/volume.ts';
import { RunLabeler } from '../morphology/runs.ts';
import { columnFloor } from './dense-floor.ts';
import type { Diaphragm } from './diaphragm.ts';
import { MediastinalBorder } from './heart-border.ts';

/**
 * Lung that is not aerated is still lung (the OAR convention for "Lung": consolidated, collapsed,
 * tumour-bearing lung are contoured; pleural effusion and chest wall are not). The air mask misses
 * it, so it is recovered from where it must be:
 *
 * - inside the lung's own footprint: the (x, y) projection of the lung in the slices above (a lower
 *   lobe lies under the aerated upper lobe; a pleural tumour under aerated lung);
 * - between aerated lung and the chest wall: in an axial slice, a run of dense voxels that starts
 *   at aerated lung and runs laterally or posteriorly out of that footprint, with no aerated lung
 *   after it (the heart, the mediastinum and the liver dome have aerated lung lateral / posterior
 *   to them, or are medial to it);
 * - above the diaphragm, fitted as a smooth lower envelope of the aerated lung's base (diaphragm.ts);
 * - lateral to the mediastinum (`mediastinumMm` from the midline), except behind the heart on the
 *   right: where the left lung comes closer to the midline in the same row, the mediastinum there
 *   is no wider (oesophagus, azygos, spine), and dense voxels between that distance and
 *   `mediastinumMm` are lung when they join dense lung recovered lateral to them (a paravertebral
 *   lower lobe). Not on the left: the descending aorta runs down the left side of the spine, at lung
 *   density without contrast, where the right lung has no counterpart;
 * - not the heart: on the left, dense tissue medial to the heart's border is taken out, the border
 *   seen against aerated lung or, where a consolidated lobe lies against the heart with no fat
 *   plane, carried down from the slice above (heart-border.ts). Not on the right: the heart's right
 *   border (the right atrium) lies within the mediastinal band, and one seen beyond it there is
 *   mostly the hilum, whose carried border cost the right lower lobe consolidated lung;
 * - not fluid: a region whose soft-tissue voxels average below `fluidMaxHu` is an effusion (simple
 *   pleural fluid is 0–20 HU; consolidated lung 30–50 HU unenhanced, more with contrast).
 * Once recovered, dense lung continues straight down to the floor even where no aerated lung is
 * left beside it (the base of a consolidated lower lobe).
 * Small air islands inside it (air bronchograms, bullae cross-sections) count as dense lung.
 */
export interface DenseLungParams {
  readonly lungHu: number;
  /** Upper limit of lung tissue density (HU): above it is bone or contrast. */
  readonly denseMaxHu: number;
  readonly fluidMaxHu: number;
  /** A recovered run is at least this long (mm): the lung base receding slice by slice is not pathology. */
  readonly minDenseMm: number;
  /** Air islands up to this cross-section (mm²) inside dense lung are bronchograms, not aerated lung. */
  readonly bronchogramMaxMm2: number;
  /**
   * No recovery this close to the midline (mm): the heart, the aorta and the oesophagus have lung
   * density without contrast and lie against the lung's mediastinal surface.
   */
  readonly mediastinumMm: number;
  /**
   * A column whose aerated lung ends within this distance (mm) of the fitted diaphragm rests on it:
   * its floor is its own lowest aerated voxel. Only columns ending higher (dense lung beneath, or
   * the heart) use the fitted surface, whose error on real domes is 1–2 cm.
   */
  readonly denseFloorMm: number;
}

export function recoverDenseLung(labels: Uint8Array, hu: Int16Array, g: VolumeGeometry, value: number, other: number, side: 1 | -1, floor: Diaphragm | undefined, midlineX: number, p: DenseLungParams): number {
  const [nx, ny, nz] = g.dims;
  const sxy = nx * ny;
  const [r, c, s] = g.direction;
  // in-plane axis closest to LPS x; the other is the antero-posterior one
  const ax = Math.abs(r[0]) >= Math.abs(c[0]) ? 0 : 1;
  const dirs = [
    { axis: ax, sign: Math.sign(g.direction[ax][0]) * side || 1 }, // lateral
    { axis: 1 - ax, sign: Math.sign(g.direction[1 - ax][1]) || 1 }, // posterior
  ];
  const order = Array.from({ length: nz }, (_, k) => k);
  if (s[2] < 0) order.reverse();
  order.reverse(); // superior first
  const floorAt = columnFloor(labels, g, value, other, midlineX, floor, p.denseFloorMm);
  const footprint = new Uint8Array(sxy);
  // 0 other, 1 candidate, 2 aerated lung, 3 outside the footprint, 5 candidate beside the mediastinum
  const cls = new Uint8Array(sxy);
  const medial = new Float64Array(Math.max(nx, ny)).fill(Infinity);
  const stack = new Int32Array(sxy);
  const acc = new Uint8Array(sxy);
  const aer = new Uint8Array(sxy);
  // recovered in the slice above: dense lung continues downwards (to the floor) without aerated lung beside it
  const densePrev = new Uint8Array(sxy);
  const labeler = new RunLabeler();
  const smallA = p.bronchogramMaxMm2 / (g.spacing[0] * g.spacing[1]);
  const minRun = [p.minDenseMm / g.spacing[0], p.minDenseMm / g.spacing[1]];
  // Nothing is recovered outside the lung's footprint, which lies inside its in-plane box: every
  // pass below runs on that box (one voxel wider, so that runs end on it), not on the whole slice.
  const box = inPlaneBox(labels, nx, ny, nz, value);
  if (!box) return 0;
  const { i0, i1, j0, j1 } = box;
  const heart = side > 0 ? heartBorder(dirs[0], box, nx, g) : undefined;
  let added = 0;
  let first = true;
  for (const k of order) {
    const off = k * sxy;
    let any = false;
    for (let j = j0; j <= j1; j++) {
      for (let q = j * nx + i0; q <= j * nx + i1; q++) {
        const a = labels[off + q] === value ? 1 : 0;
        aer[q] = a;
        if (a) any = true;
      }
    }
    if (first) {
      if (!any) continue;
      first = false;
      for (let q = 0; q < sxy; q++) footprint[q] |= aer[q];
      continue;
    }
    // classify: small air islands are candidates like dense voxels
    const rc = labeler.label(aer, nx, ny, 1);
    const small = new Uint8Array(rc.count + 1);
    for (let l = 1; l <= rc.count; l++) if (rc.sizes[l] < smallA) small[l] = 1;
    cls.fill(0);
    // the descending aorta runs down the left side of the spine: only the right lung's band narrows
    if (side < 0) otherMedial(labels, off, g, k, other, midlineX, ax, medial);
    for (let j = j0; j <= j1; j++) for (let q = j * nx + i0; q <= j * nx + i1; q++) {
      if (footprint[q] === 0) cls[q] = 3;
      const v = labels[off + q];
      if (v !== 0 && v !== value) cls[q] = 0;
      else if (v === 0 && footprint[q] !== 0) {
        const h = hu[off + q];
        if (h > p.lungHu && h < p.denseMaxHu) {
          const i = q % nx;
          const j = (q - i) / nx;
          const x = g.origin[0] + i * g.spacing[0] * r[0] + j * g.spacing[1] * c[0] + k * g.spacing[2] * s[0];
          const y = g.origin[1] + i * g.spacing[0] * r[1] + j * g.spacing[1] * c[1] + k * g.spacing[2] * s[1];
          const z = g.origin[2] + i * g.spacing[0] * r[2] + j * g.spacing[1] * c[2] + k * g.spacing[2] * s[2];
          const d = Math.abs(x - midlineX);
          if ((d >= p.mediastinumMm || d >= medial[ax === 0 ? j : i]) && z > floorAt(q, x, y)) cls[q] = d >= p.mediastinumMm ? 1 : 5;
        }
      }
    }
    for (let t = 0; t < rc.nRuns; t++) {
      const v = small[rc.label[t]] ? 1 : 2;
      const base = rc.line[t] * nx;
      cls.fill(v, base + rc.start[t], base + rc.end[t]);
    }
    heart?.mark(cls);
    acc.fill(0);
    let anyAcc = false;
    for (let j = j0; j <= j1; j++) for (let q = j * nx + i0; q <= j * nx + i1; q++) {
      if (densePrev[q] !== 0 && (cls[q] === 1 || cls[q] === 5)) {
        acc[q] = 1;
        anyAcc = true;
      }
    }
    for (const d of dirs) {
      const len = d.axis === 0 ? i1 - i0 + 1 : j1 - j0 + 1;
      const step = d.axis === 0 ? 1 : nx;
      for (let L = d.axis === 0 ? j0 : i0; L <= (d.axis === 0 ? j1 : i1); L++) {
        const start = d.axis === 0 ? L * nx + i0 : j0 * nx + L;
        let prev = 0;
        let runFrom = -1;
        for (let n = 0; n <= len; n++) {
          const idx = d.sign > 0 ? n : len - 1 - n;
          const q = start + idx * step;
          const v = n === len ? 3 : cls[q];
          if (v === 1) {
            if (runFrom < 0) runFrom = n;
            continue;
          }
          if (runFrom >= 0 && prev === 2 && v === 3 && n - runFrom >= minRun[d.axis]) {
            for (let m = runFrom; m < n; m++) acc[start + (d.sign > 0 ? m : len - 1 - m) * step] = 1;
            anyAcc = true;
          }
          if (runFrom >= 0) runFrom = -1;
          prev = v;
        }
      }
    }
    if (anyAcc) growInto(acc, cls, 5, nx, ny, stack, box);
    densePrev.fill(0);
    if (anyAcc) added += keepSolid(acc, hu, off, nx, ny, labels, value, labeler, p.fluidMaxHu, densePrev);
    heart?.settle(densePrev);
    for (let j = j0; j <= j1; j++) for (let q = j * nx + i0; q <= j * nx + i1; q++) if (labels[off + q] === value) footprint[q] = 1;
  }
  return added;
}

/**
 * The left lung's mediastinal border tracker (heart-border.ts), on the lines of the box along the
 * lateral axis. A smooth outline moves in-plane about one slice thickness per slice at most (45°):
 * a border seen further from the common movement than that is not the heart's.
 */
function heartBorder(lateral: { axis: number; sign: number }, box: Rect, nx: number, g: VolumeGeometry): MediastinalBorder {
  const { i0, i1, j0, j1 } = box;
  const alongI = lateral.axis === 0;
  return new MediastinalBorder({
    step: alongI ? 1 : nx,
    lineStep: alongI ? nx : 1,
    first: j0 * nx + i0,
    lines: alongI ? j1 - j0 + 1 : i1 - i0 + 1,
    length: alongI ? i1 - i0 + 1 : j1 - j0 + 1,
    reversed: lateral.sign < 0,
  }, Math.abs(g.spacing[2]) / g.spacing[lateral.axis]);
}

interface Rect {
  readonly i0: number;
  readonly i1: number;
  readonly j0: number;
  readonly j1: number;
}

/** In-plane bounding box (inclusive) of a label over all slices, one voxel wider, clipped; undefined if absent. */
function inPlaneBox(labels: Uint8Array, nx: number, ny: number, nz: number, value: number): Rect | undefined {
  let i0 = nx;
  let i1 = -1;
  let j0 = ny;
  let j1 = -1;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const base = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        if (labels[base + i] !== value) continue;
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
      }
    }
  }
  if (i1 < 0) return undefined;
  return { i0: Math.max(0, i0 - 1), i1: Math.min(nx - 1, i1 + 1), j0: Math.max(0, j0 - 1), j1: Math.min(ny - 1, j1 + 1) };
}

/**
 * Per line of the slice along the lateral axis (`ax`): the distance (mm) from the midline of the
 * other lung's most medial voxel. Where the other lung comes this close to the midline, the
 * mediastinum at that level is no wider (behind the heart: oesophagus, aorta, azygos, spine).
 */
function otherMedial(labels: Uint8Array, off: number, g: VolumeGeometry, k: number, other: number, midlineX: number, ax: number, out: Float64Array): void {
  const [nx, ny] = g.dims;
  const [r, c, s] = g.direction;
  out.fill(Infinity);
  const x0 = g.origin[0] + k * g.spacing[2] * s[0];
  const dxi = g.spacing[0] * r[0];
  const dxj = g.spacing[1] * c[0];
  for (let j = 0; j < ny; j++) {
    const base = off + j * nx;
    for (let i = 0; i < nx; i++) {
      if (labels[base + i] !== other) continue;
      const d = Math.abs(x0 + i * dxi + j * dxj - midlineX);
      const L = ax === 0 ? j : i;
      if (d < out[L]) out[L] = d;
    }
  }
}

/** Grow `acc` in the slice (4-connected) into the voxels whose class is `into`. */
function growInto(acc: Uint8Array, cls: Uint8Array, into: number, nx: number, ny: number, stack: Int32Array, box: Rect): void {
  let n = 0;
  for (let j = box.j0; j <= box.j1; j++) for (let q = j * nx + box.i0; q <= j * nx + box.i1; q++) if (acc[q] !== 0) stack[n++] = q;
  while (n > 0) {
    const q = stack[--n];
    const i = q % nx;
    const j = (q - i) / nx;
    if (i > 0 && cls[q - 1] === into && acc[q - 1] === 0) { acc[q - 1] = 1; stack[n++] = q - 1; }
    if (i < nx - 1 && cls[q + 1] === into && acc[q + 1] === 0) { acc[q + 1] = 1; stack[n++] = q + 1; }
    if (j > 0 && cls[q - nx] === into && acc[q - nx] === 0) { acc[q - nx] = 1; stack[n++] = q - nx; }
    if (j < ny - 1 && cls[q + nx] === into && acc[q + nx] === 0) { acc[q + nx] = 1; stack[n++] = q + nx; }
  }
}

/** Label the accepted voxels whose 2-D region is not fluid (soft-tissue mean ≥ fluidMaxHu). */
function keepSolid(acc: Uint8Array, hu: Int16Array, off: number, nx: number, ny: number, labels: Uint8Array, value: number, labeler: RunLabeler, fluidMaxHu: number, kept: Uint8Array): number {
  const rc = labeler.label(acc, nx, ny, 1);
  const sum = new Float64Array(rc.count + 1);
  const cnt = new Float64Array(rc.count + 1);
  for (let t = 0; t < rc.nRuns; t++) {
    const base = off + rc.line[t] * nx;
    const l = rc.label[t];
    for (let q = base + rc.start[t]; q < base + rc.end[t]; q++) {
      const h = hu[q];
      if (h > -100) {
        sum[l] += h;
        cnt[l]++;
      }
    }
  }
  let added = 0;
  for (let t = 0; t < rc.nRuns; t++) {
    const l = rc.label[t];
    if (cnt[l] > 0 && sum[l] / cnt[l] < fluidMaxHu) continue;
    const base = off + rc.line[t] * nx;
    kept.fill(1, rc.line[t] * nx + rc.start[t], rc.line[t] * nx + rc.end[t]);
    for (let q = base + rc.start[t]; q < base + rc.end[t]; q++) {
      if (labels[q] === 0) {
        labels[q] = value;
        added++;
      }
    }
  }
  return added;
}
