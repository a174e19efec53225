import type { LabelMap, Vec3, Volume, VolumeGeometry } from '../core/volume.ts';
import { diaphragms } from './classical/dense-floor.ts';
import { recoverDenseLung } from './classical/dense-lung.ts';
import { classicalParamsSchema } from './classical/manifest.ts';
import { AXIAL_COS, cropHu } from './classical/lung-segmenter.ts';
import type { Box } from './morphology/crop.ts';
import { boundingBox, boxGeometry, cropMask } from './morphology/crop.ts';

/**
 * Lung a segmenter left out because it is not aerated: consolidation, collapse, a tumour against the
 * pleura (issue 9 §3: QC must catch what a segmenter misses). The classical segmenter's anatomy rules
 * (src/ml/classical/dense-lung.ts: lung-density tissue between the contoured lung and the chest wall,
 * above the diaphragm fitted under each lung, away from the mediastinum, not fluid) are run on a copy
 * of the contours from ANY segmenter; what they would add is what it missed. Near-axial series only
 * (the rules assume it); otherwise undefined — the result says so rather than passing silently.
 */
export function missedDenseLung(volume: Volume, labels: LabelMap, left: number, right: number): { readonly left: number; readonly right: number } | undefined {
  if (Math.abs(labels.direction[2][2]) <= AXIAL_COS) return undefined;
  const p = classicalParamsSchema.parse({});
  // Room below the contours for a consolidated base. Nothing is recovered outside the contours'
  // in-plane footprint (dense-lung.ts) nor above them: one voxel around them in-plane is enough.
  const belowMm = 60;
  const tight = boundingBox(labels.data, labels.dims, 1);
  if (!tight) return { left: 0, right: 0 };
  const box = extendDown(tight, labels, Math.ceil(belowMm / Math.abs(labels.spacing[2])));
  const g = boxGeometry(labels, box);
  const work = cropMask(labels.data, labels.dims, box);
  for (let q = 0; q < work.length; q++) if (work[q] !== left && work[q] !== right) work[q] = 0;
  const hu = cropHu(volume, box);
  const midlineX = midline(work, g, left, right);
  const floors = diaphragms(work, hu, g, left, right, p.lungHu, midlineX);
  const ml = (g.spacing[0] * g.spacing[1] * Math.abs(g.spacing[2])) / 1000;
  const addedLeft = recoverDenseLung(work, hu, g, left, right, 1, floors.left, midlineX, p);
  const addedRight = recoverDenseLung(work, hu, g, right, left, -1, floors.right, midlineX, p);
  return { left: addedLeft * ml, right: addedRight * ml };
}

/** The box grown by n slices towards the feet (LPS −z), clipped to the grid. */
function extendDown(b: Box, g: VolumeGeometry, n: number): Box {
  const feetAtLowK = g.direction[2][2] * g.spacing[2] > 0;
  const lo: Vec3 = [b.lo[0], b.lo[1], feetAtLowK ? Math.max(0, b.lo[2] - n) : b.lo[2]];
  const hi: Vec3 = [b.hi[0], b.hi[1], feetAtLowK ? b.hi[2] : Math.min(g.dims[2], b.hi[2] + n)];
  return { lo, hi };
}

/** Patient x (LPS) halfway between the two lungs' centroids: the mediastinum's position. */
function midline(labels: Uint8Array, g: ReturnType<typeof boxGeometry>, left: number, right: number): number {
  const [nx, ny] = g.dims;
  let nl = 0;
  let nr = 0;
  let xl = 0;
  let xr = 0;
  for (let q = 0; q < labels.length; q++) {
    const v = labels[q];
    if (v !== left && v !== right) continue;
    const i = q % nx;
    const j = Math.floor(q / nx) % ny;
    const k = Math.floor(q / (nx * ny));
    const x = g.origin[0] + i * g.spacing[0] * g.direction[0][0] + j * g.spacing[1] * g.direction[1][0] + k * g.spacing[2] * g.direction[2][0];
    if (v === left) {
      nl++;
      xl += x;
    } else {
      nr++;
      xr += x;
    }
  }
  if (nl === 0 && nr === 0) return g.origin[0];
  if (nl === 0) return xr / nr + 60; // one lung only: the mediastinum lies ~6 cm medial to its centre
  if (nr === 0) return xl / nl - 60;
  return (xl / nl + xr / nr) / 2;
}
