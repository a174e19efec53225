import type { ModelManifest } from '../core/model.ts';
import type { LabelMap, VolumeGeometry } from '../core/volume.ts';
import { voxelVolumeMl } from '../core/volume.ts';
import { overlap } from './metrics.ts';
import { labelComponents3d } from './morphology/components.ts';

/**
 * Comparing a segmentation with a reference ("ground truth") on the same grid: Dice and volume
 * difference per structure, and splitting a one-label lung mask into left and right by side.
 * Pure: the CLI reads the files (NIfTI, RTSTRUCT) and maps them onto the CT grid first.
 */

/** LPS x (mm) of every voxel column i, row j, slice k is linear: x = x0 + i·ax + j·bx + k·cx. */
function xCoefficients(g: VolumeGeometry): [number, number, number, number] {
  const [r, c, s] = g.direction;
  return [g.origin[0], r[0] * g.spacing[0], c[0] * g.spacing[1], s[0] * g.spacing[2]];
}

/**
 * The LPS x (mm) of the plane between the two lungs of a one-label mask: the emptiest place of
 * the mask's projection on x (the mediastinum), searched in the middle half of its extent and
 * nearest the mask's centroid, so lungs that touch at the anterior junction still part there.
 */
export function sideSplitX(mask: ArrayLike<number>, g: VolumeGeometry): number | undefined {
  const [nx, ny, nz] = g.dims;
  const [x0, ax, bx, cx] = xCoefficients(g);
  const xs: number[] = [];
  let sum = 0;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] === 0) continue;
        const x = x0 + i * ax + j * bx + k * cx;
        xs.push(x);
        sum += x;
      }
    }
  }
  if (xs.length === 0) return undefined;
  const centroid = sum / xs.length;
  xs.sort((a, b) => a - b);
  const lo = xs[Math.floor(0.02 * (xs.length - 1))];
  const hi = xs[Math.ceil(0.98 * (xs.length - 1))];
  const bin = Math.max(0.5, Math.min(g.spacing[0], g.spacing[1]));
  const n = Math.max(1, Math.ceil((hi - lo) / bin));
  const counts = new Float64Array(n);
  for (const x of xs) if (x >= lo && x <= hi) counts[Math.min(n - 1, Math.floor((x - lo) / bin))]++;
  const from = Math.floor(n / 4);
  const to = Math.max(from, Math.ceil((3 * n) / 4) - 1);
  let min = Infinity;
  for (let b = from; b <= to; b++) min = Math.min(min, counts[b]);
  let best = -1;
  for (let b = from; b <= to; b++) {
    if (counts[b] !== min) continue;
    const centre = lo + (b + 0.5) * bin;
    if (best < 0 || Math.abs(centre - centroid) < Math.abs(lo + (best + 0.5) * bin - centroid)) best = b;
  }
  // the middle of the run of equally empty bins around the chosen one
  let a = best;
  let z = best;
  while (a - 1 >= from && counts[a - 1] === min) a--;
  while (z + 1 <= to && counts[z + 1] === min) z++;
  return lo + ((a + z + 1) / 2) * bin;
}

/**
 * A one-label mask (both lungs) → left and right masks. Patient left is +x in DICOM LPS
 * (PS3.3 C.7.6.2.1.1), whatever the order of the columns in the file. Each connected piece goes
 * whole to the side most of it lies on (a lung reaching over the midline stays one lung); only a
 * piece with much of itself on both sides (lungs touching) is cut at the plane.
 */
export function splitBySide(mask: ArrayLike<number>, g: VolumeGeometry): { left: Uint8Array; right: Uint8Array; splitX?: number } {
  const left = new Uint8Array(mask.length);
  const right = new Uint8Array(mask.length);
  const splitX = sideSplitX(mask, g);
  if (splitX === undefined) return { left, right };
  const [nx, ny, nz] = g.dims;
  const [x0, ax, bx, cx] = xCoefficients(g);
  const { labels, count } = labelComponents3d(Uint8Array.from(mask, (v) => (v !== 0 ? 1 : 0)), g.dims, 6);
  const onLeft = new Float64Array(count + 1);
  const onRight = new Float64Array(count + 1);
  const xOf = (p: number) => {
    const k = Math.floor(p / (nx * ny));
    const j = Math.floor((p - k * nx * ny) / nx);
    return x0 + (p - k * nx * ny - j * nx) * ax + j * bx + k * cx;
  };
  for (let p = 0; p < mask.length; p++) if (labels[p] !== 0) (xOf(p) > splitX ? onLeft : onRight)[labels[p]]++;
  // 'left' | 'right' for a piece that goes whole, undefined for one cut at the plane
  const whole = Array.from({ length: count + 1 }, (_, l) => {
    const n = onLeft[l] + onRight[l];
    if (onLeft[l] >= WHOLE_FRACTION * n) return 'left';
    if (onRight[l] >= WHOLE_FRACTION * n) return 'right';
    return undefined;
  });
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const l = labels[p];
        if (l === 0) continue;
        const side = whole[l] ?? (x0 + i * ax + j * bx + k * cx > splitX ? 'left' : 'right');
        (side === 'left' ? left : right)[p] = 1;
      }
    }
  }
  return { left, right, splitX };
}

/** A connected piece with at least this share of its voxels on one side of the plane goes whole to that side. */
const WHOLE_FRACTION = 0.9;

/** Mean LPS x (mm) of a mask's voxels equal to `value` (NaN when there are none). */
export function meanX(mask: ArrayLike<number>, g: VolumeGeometry, value: number): number {
  const [nx, ny, nz] = g.dims;
  const [x0, ax, bx, cx] = xCoefficients(g);
  let s = 0;
  let n = 0;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] !== value) continue;
        s += x0 + i * ax + j * bx + k * cx;
        n++;
      }
    }
  }
  return n ? s / n : NaN;
}

/**
 * A lung reference mask → Lung_L / Lung_R (TG-263 names). Two label values: each is the lung on
 * its side (by mean x; no numbering convention is assumed). One value, or many (lobes, regions):
 * every non-zero voxel is lung, split by side.
 */
export function lungsFromMask(mask: ArrayLike<number>, g: VolumeGeometry): { masks: Map<string, Uint8Array>; how: string } {
  const values = new Set<number>();
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) values.add(mask[p]);
  if (values.size === 2) {
    const [a, b] = [...values].sort((u, v) => meanX(mask, g, v) - meanX(mask, g, u)); // larger x first: left
    const pick = (v: number) => Uint8Array.from(mask as ArrayLike<number>, (x) => (x === v ? 1 : 0));
    return { masks: new Map([['Lung_L', pick(a)], ['Lung_R', pick(b)]]), how: `labels ${a} (left) and ${b} (right), by side` };
  }
  const { left, right, splitX } = splitBySide(mask, g);
  const how = values.size === 0 ? 'empty mask' : `one mask split at x = ${splitX?.toFixed(1)} mm (LPS; patient left is +x)`;
  return { masks: new Map([['Lung_L', left], ['Lung_R', right]]), how };
}

export interface TruthComparison {
  readonly roi: string;
  readonly dice: number;
  /** Volumes in mL: ours, the reference's, and ours − reference. */
  readonly volumeMl: number;
  readonly truthVolumeMl: number;
  readonly differenceMl: number;
}

/** Structures are matched by ROI name, case-insensitively (reference masks hold 1 inside); a name only one side has is not compared. */
export function compareWithTruth(
  labels: LabelMap,
  manifest: ModelManifest,
  truth: ReadonlyMap<string, ArrayLike<number>>,
): { structures: TruthComparison[]; notCompared: string[] } {
  const ml = voxelVolumeMl(labels);
  const byName = new Map([...truth].map(([name, m]) => [name.toLowerCase(), m]));
  const structures: TruthComparison[] = [];
  const used = new Set<string>();
  for (const l of manifest.labels) {
    const t = byName.get(l.roiName.toLowerCase());
    if (!t) continue;
    used.add(l.roiName.toLowerCase());
    const o = overlap(labels.data, t, l.value, 1);
    const dice = o.a + o.b === 0 ? 1 : (2 * o.both) / (o.a + o.b);
    structures.push({ roi: l.roiName, dice, volumeMl: o.a * ml, truthVolumeMl: o.b * ml, differenceMl: (o.a - o.b) * ml });
  }
  const notCompared = [...manifest.labels.map((l) => l.roiName), ...truth.keys()].filter((n) => !used.has(n.toLowerCase()));
  return { structures, notCompared: [...new Set(notCompared)] };
}
