import type { Volume } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { SliceHoleFiller } from '../morphology/fill-holes.ts';
import { RunLabeler } from '../morphology/runs.ts';
import type { Box } from '../morphology/crop.ts';

export interface BodyMask {
  /** 1 inside the patient's body outline (holes filled, so the lungs are inside), 0 outside. */
  readonly mask: Uint8Array;
  /** Left-right (LPS x) centre of the body in mm: the midline used to tell left from right. */
  readonly midlineX: number;
  /** Index box of the body (undefined when no slice has tissue). */
  readonly box?: Box;
}

/**
 * Body outline, slice by slice: tissue above `bodyHu`, the largest 4-connected component of each
 * slice (the table, cushions and arms resting apart are separate components in an axial slice), its
 * holes filled. Air outside this outline (room air, air under the table) is thereby excluded.
 * The midline is the filled outline's centre of mass.
 */
export function bodyMask(volume: Volume, bodyHu: number): BodyMask {
  const [nx, ny, nz] = volume.dims;
  const sxy = nx * ny;
  const mask = new Uint8Array(sxy * nz);
  const labeler = new RunLabeler();
  const filler = new SliceHoleFiller(nx, ny);
  const data = volume.data;
  let sumI = 0;
  let sumJ = 0;
  let sumK = 0;
  let count = 0;
  const lo = [nx, ny, nz];
  const hi = [0, 0, 0];
  for (let k = 0; k < nz; k++) {
    const off = k * sxy;
    const rc = labeler.labelAbove(data, bodyHu, nx, ny, 1, off);
    let body = 0;
    for (let l = 1; l <= rc.count; l++) if (body === 0 || rc.sizes[l] > rc.sizes[body]) body = l;
    if (body === 0) continue;
    for (let r = 0; r < rc.nRuns; r++) {
      if (rc.label[r] !== body) continue;
      const j = rc.line[r];
      const a = rc.start[r];
      const b = rc.end[r];
      mask.fill(1, off + j * nx + a, off + j * nx + b);
      const len = b - a;
      if (a < lo[0]) lo[0] = a;
      if (b > hi[0]) hi[0] = b;
      if (j < lo[1]) lo[1] = j;
      if (j + 1 > hi[1]) hi[1] = j + 1;
      if (k < lo[2]) lo[2] = k;
      if (k + 1 > hi[2]) hi[2] = k + 1;
      sumI += ((a + b - 1) * len) / 2;
      sumJ += j * len;
      sumK += k * len;
      count += len;
    }
    // the centre is the filled outline's (lungs included): the tissue alone leans towards the
    // heart and away from the larger right lung
    filler.holes(mask, off, (a, b) => {
      mask.fill(1, a, b);
      const j = Math.floor((a - off) / nx);
      const i = a - off - j * nx;
      const len = b - a;
      sumI += ((2 * i + len - 1) * len) / 2;
      sumJ += j * len;
      sumK += k * len;
      count += len;
    });
  }
  const c = count === 0 ? [nx / 2, ny / 2, nz / 2] : [sumI / count, sumJ / count, sumK / count];
  const midlineX = indexToPatient(volume, c[0], c[1], c[2])[0];
  if (count === 0) return { mask, midlineX };
  return { mask, midlineX, box: { lo: [lo[0], lo[1], lo[2]], hi: [hi[0], hi[1], hi[2]] } };
}
