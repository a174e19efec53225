import type { Vec3, VolumeGeometry } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { IndexQueue } from '../morphology/components.ts';
import { squaredDistanceToBackground } from '../morphology/distance.ts';
import type { RunComponents } from '../morphology/runs.ts';
import { RunLabeler } from '../morphology/runs.ts';

export type SplitMethod = 'components' | 'erosion' | 'midline' | 'single';

export interface LungSplit {
  /** Label map on the mask's grid: `left`, `right` or 0. */
  readonly labels: Uint8Array;
  readonly method: SplitMethod;
  /** Erosion radius that separated the lungs (mm), for method 'erosion'. */
  readonly erosionMm?: number;
}

interface ComponentStats {
  readonly label: number;
  readonly size: number;
  /** LPS x of the centroid (mm); larger x = patient left. */
  readonly x: number;
  /** Voxels on the patient-left side of the midline. */
  readonly leftVoxels: number;
  /** Most superior LPS z of the component (mm): where a lung's apex is. */
  readonly top: number;
}

/** Per-component size, centroid x and left-of-midline count, from the runs (no voxel loop). */
function componentStats(rc: RunComponents, g: VolumeGeometry, midlineX: number): ComponentStats[] {
  const ny = g.dims[1];
  const n = rc.count + 1;
  const si = new Float64Array(n), sj = new Float64Array(n), sk = new Float64Array(n), left = new Float64Array(n);
  const top = new Float64Array(n).fill(-Infinity);
  const az = g.spacing[0] * g.direction[0][2];
  const bz = g.spacing[1] * g.direction[1][2];
  const cz = g.spacing[2] * g.direction[2][2];
  const z0 = g.origin[2];
  // LPS x of voxel (i, j, k) is affine: x0 + i*ax + j*bx + k*cx
  const x0 = g.origin[0];
  const ax = g.spacing[0] * g.direction[0][0];
  const bx = g.spacing[1] * g.direction[1][0];
  const cx = g.spacing[2] * g.direction[2][0];
  for (let r = 0; r < rc.nRuns; r++) {
    const l = rc.label[r];
    const a = rc.start[r];
    const b = rc.end[r];
    const len = b - a;
    const k = (rc.line[r] / ny) | 0;
    const j = rc.line[r] - k * ny;
    si[l] += ((a + b - 1) * len) / 2;
    sj[l] += j * len;
    sk[l] += k * len;
    const xj = x0 + j * bx + k * cx;
    const zj = z0 + j * bz + k * cz;
    const zTop = Math.max(zj + a * az, zj + (b - 1) * az);
    if (zTop > top[l]) top[l] = zTop;
    if (ax > 0) left[l] += Math.max(0, b - Math.max(a, Math.floor((midlineX - xj) / ax) + 1));
    else if (ax < 0) left[l] += Math.max(0, Math.min(b, Math.ceil((midlineX - xj) / ax)) - a);
    else if (xj > midlineX) left[l] += len;
  }
  const out: ComponentStats[] = [];
  for (let l = 1; l < n; l++) {
    const size = rc.sizes[l];
    const x = indexToPatient(g, si[l] / size, sj[l] / size, sk[l] / size)[0];
    out.push({ label: l, size, x, leftVoxels: Math.min(size, left[l]), top: top[l] });
  }
  return out.sort((a, b) => b.size - a.size);
}

/** out[voxel] = valueOf[label] for every run with a non-zero value. */
function paintValues(rc: RunComponents, nx: number, valueOf: Uint8Array, out: Uint8Array): void {
  for (let r = 0; r < rc.nRuns; r++) {
    const v = valueOf[rc.label[r]];
    if (v === 0) continue;
    const base = rc.line[r] * nx;
    out.fill(v, base + rc.start[r], base + rc.end[r]);
  }
}

/**
 * Split air-in-body into left and right lung. Components smaller than `minFraction` of the largest
 * are dropped (bowel gas, oesophagus). When the largest component straddles the midline the lungs
 * touch (anterior/posterior junction, or a bronchus left behind): erode it by growing radii in mm
 * until it falls apart into a left and a right core, then grow the cores back through the mask
 * (breadth-first, both at once, so the cut runs through the narrow part of the junction).
 * Sides come from patient coordinates (LPS +x = left), never from array order.
 */
export function splitLungs(air: Uint8Array, g: VolumeGeometry, midlineX: number, minFraction: number, apexToleranceMm: number, left: number, right: number): LungSplit {
  const [nx, ny, nz] = g.dims;
  const rc = new RunLabeler().label(air, nx, ny, nz);
  const stats = componentStats(rc, g, midlineX);
  const out = new Uint8Array(air.length);
  if (stats.length === 0) return { labels: out, method: 'single' };
  const kept = stats.filter((s) => s.size >= minFraction * stats[0].size && s.top >= stats[0].top - apexToleranceMm);
  const valueOf = new Uint8Array(rc.count + 1);
  for (const c of kept) valueOf[c.label] = c.x > midlineX ? left : right;
  const big = kept[0];
  const leftShare = big.leftVoxels / big.size;
  if (leftShare > 0.15 && leftShare < 0.85) {
    valueOf[big.label] = 0;
    paintValues(rc, nx, valueOf, out);
    const only = new Uint8Array(rc.count + 1);
    only[big.label] = 1;
    const mask = new Uint8Array(air.length);
    paintValues(rc, nx, only, mask);
    return erosionSplit(mask, g, midlineX, left, right, out);
  }
  paintValues(rc, nx, valueOf, out);
  const sides = new Set(kept.map((s) => (s.x > midlineX ? 'L' : 'R')));
  return { labels: out, method: sides.size === 2 ? 'components' : 'single' };
}

/** Block-average a mask by integer factors (a coarse voxel is set when half its block is). */
function coarsen(mask: Uint8Array, dims: Vec3, f: Vec3): { mask: Uint8Array; dims: Vec3 } {
  const [nx, ny, nz] = dims;
  const cd: Vec3 = [Math.ceil(nx / f[0]), Math.ceil(ny / f[1]), Math.ceil(nz / f[2])];
  const sum = new Uint16Array(cd[0] * cd[1] * cd[2]);
  const cnt = new Uint16Array(sum.length);
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const ck = ((k / f[2]) | 0) * cd[0] * cd[1];
    for (let j = 0; j < ny; j++) {
      const cj = ck + ((j / f[1]) | 0) * cd[0];
      for (let i = 0; i < nx; i++, p++) {
        const c = cj + ((i / f[0]) | 0);
        sum[c] += mask[p];
        cnt[c]++;
      }
    }
  }
  const out = new Uint8Array(sum.length);
  for (let c = 0; c < out.length; c++) out[c] = 2 * sum[c] >= cnt[c] && sum[c] > 0 ? 1 : 0;
  return { mask: out, dims: cd };
}

function erosionSplit(mask: Uint8Array, g: VolumeGeometry, midlineX: number, left: number, right: number, out: Uint8Array): LungSplit {
  // The search runs on a grid of about 3 mm: the junction is centimetres wide, and this keeps the
  // distance transform and repeated labelling cheap on 0.6 mm clinical CT.
  const f: Vec3 = [0, 1, 2].map((a) => Math.max(1, Math.floor(3 / g.spacing[a]))) as unknown as Vec3;
  const coarse = coarsen(mask, g.dims, f);
  const cg: VolumeGeometry = {
    dims: coarse.dims,
    spacing: [g.spacing[0] * f[0], g.spacing[1] * f[1], g.spacing[2] * f[2]],
    direction: g.direction,
    origin: indexToPatient(g, (f[0] - 1) / 2, (f[1] - 1) / 2, (f[2] - 1) / 2),
  };
  const coarseLabels = new Uint8Array(coarse.mask.length);
  const d2 = squaredDistanceToBackground(coarse.mask, cg.dims, cg.spacing);
  const step = Math.max(...cg.spacing);
  const core = new Uint8Array(coarse.mask.length);
  const labeler = new RunLabeler();
  let erosionMm: number | undefined;
  for (let r = step; r <= 40; r += step) {
    const r2 = r * r;
    let n = 0;
    for (let p = 0; p < core.length; p++) {
      const c = d2[p] > r2 ? 1 : 0;
      core[p] = c;
      n += c;
    }
    if (n === 0) break;
    const rc = labeler.label(core, cg.dims[0], cg.dims[1], cg.dims[2]);
    const stats = componentStats(rc, cg, midlineX);
    const l = stats.find((s) => s.x > midlineX);
    const rt = stats.find((s) => s.x <= midlineX);
    if (!l || !rt) continue;
    // both cores substantial, and the largest core is one of them
    if (Math.min(l.size, rt.size) < 0.2 * Math.max(l.size, rt.size)) continue;
    if (stats[0].label !== l.label && stats[0].label !== rt.label) continue;
    const valueOf = new Uint8Array(rc.count + 1);
    valueOf[l.label] = left;
    valueOf[rt.label] = right;
    paintValues(rc, cg.dims[0], valueOf, coarseLabels);
    growCores(coarse.mask, coarseLabels, cg.dims);
    erosionMm = r;
    break;
  }
  // Fine voxels take their coarse voxel's side, else a neighbour's, else the midline's.
  const [nx, ny, nz] = g.dims;
  const [cx, cy, cz] = cg.dims;
  const x0 = g.origin[0];
  const ax = g.spacing[0] * g.direction[0][0];
  const bx = g.spacing[1] * g.direction[1][0];
  const czx = g.spacing[2] * g.direction[2][0];
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const ck = (k / f[2]) | 0;
    for (let j = 0; j < ny; j++) {
      const cj = (j / f[1]) | 0;
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] === 0) continue;
        const ci = (i / f[0]) | 0;
        let v = erosionMm === undefined ? 0 : coarseLabels[ci + cj * cx + ck * cx * cy];
        for (let dk = -1; v === 0 && erosionMm !== undefined && dk <= 1; dk++) {
          for (let dj = -1; v === 0 && dj <= 1; dj++) {
            for (let di = -1; v === 0 && di <= 1; di++) {
              const a = ci + di, b = cj + dj, c = ck + dk;
              if (a >= 0 && b >= 0 && c >= 0 && a < cx && b < cy && c < cz) v = coarseLabels[a + b * cx + c * cx * cy];
            }
          }
        }
        if (v === 0) v = x0 + i * ax + j * bx + k * czx > midlineX ? left : right;
        out[p] = v;
      }
    }
  }
  return erosionMm === undefined ? { labels: out, method: 'midline' } : { labels: out, method: 'erosion', erosionMm };
}

/** Multi-source breadth-first growth of the labelled cores through the mask (6-connected), in place. */
function growCores(mask: Uint8Array, labels: Uint8Array, dims: Vec3): void {
  const [nx, ny, nz] = dims;
  const sxy = nx * ny;
  const q = new IndexQueue(1 << 16);
  for (let p = 0; p < mask.length; p++) if (labels[p] !== 0) q.push(p);
  while (q.length > 0) {
    const p = q.shift();
    const v = labels[p];
    const k = (p / sxy) | 0;
    const r = p - k * sxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    if (i > 0 && mask[p - 1] !== 0 && labels[p - 1] === 0) { labels[p - 1] = v; q.push(p - 1); }
    if (i < nx - 1 && mask[p + 1] !== 0 && labels[p + 1] === 0) { labels[p + 1] = v; q.push(p + 1); }
    if (j > 0 && mask[p - nx] !== 0 && labels[p - nx] === 0) { labels[p - nx] = v; q.push(p - nx); }
    if (j < ny - 1 && mask[p + nx] !== 0 && labels[p + nx] === 0) { labels[p + nx] = v; q.push(p + nx); }
    if (k > 0 && mask[p - sxy] !== 0 && labels[p - sxy] === 0) { labels[p - sxy] = v; q.push(p - sxy); }
    if (k < nz - 1 && mask[p + sxy] !== 0 && labels[p + sxy] === 0) { labels[p + sxy] = v; q.push(p + sxy); }
  }
}
