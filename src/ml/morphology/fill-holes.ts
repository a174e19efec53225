import { RunLabeler } from './runs.ts';

/**
 * 2D hole filling: background regions of a slice that do not reach the slice's edge (4-connected)
 * become foreground. Vessels and airways inside a lung are enclosed in an axial slice, so this
 * restores them; structures open to the mediastinum are left alone.
 */
export class SliceHoleFiller {
  private readonly labeler = new RunLabeler();
  private readonly nx: number;
  private readonly ny: number;

  constructor(nx: number, ny: number) {
    this.nx = nx;
    this.ny = ny;
  }

  /**
   * Find the holes of the binary slice `mask[offset .. offset + nx*ny)` and call `onHole(from, to)`
   * for each hole run (absolute indices into `mask`, `to` exclusive). Holes larger than
   * `maxHolePixels` are left open. Returns the pixels in holes.
   */
  holes(mask: Uint8Array, offset: number, onHole: (from: number, to: number) => void, maxHolePixels = Infinity): number {
    const { nx, ny } = this;
    const rc = this.labeler.label(mask, nx, ny, 1, false, offset);
    let n = 0;
    for (let r = 0; r < rc.nRuns; r++) {
      const l = rc.label[r];
      if (rc.touchesBorder[l] !== 0 || rc.sizes[l] > maxHolePixels) continue;
      const base = offset + rc.line[r] * nx;
      onHole(base + rc.start[r], base + rc.end[r]);
      n += rc.end[r] - rc.start[r];
    }
    return n;
  }
}

/** Fill the holes of a binary mask in every slice (k) of an x-fastest volume, in place. */
export function fillHolesPerSlice(mask: Uint8Array, nx: number, ny: number, nz: number): number {
  const filler = new SliceHoleFiller(nx, ny);
  let n = 0;
  for (let k = 0; k < nz; k++) n += filler.holes(mask, k * nx * ny, (a, b) => mask.fill(1, a, b));
  return n;
}

/**
 * Fill the holes of one label of a label map in every slice; only background (0) voxels are
 * changed, so another label inside a hole is kept. Holes larger than `maxHolePixels` stay open.
 */
export function fillLabelHolesPerSlice(labels: Uint8Array, nx: number, ny: number, nz: number, value: number, maxHolePixels = Infinity): number {
  const sxy = nx * ny;
  const filler = new SliceHoleFiller(nx, ny);
  const slice = new Uint8Array(sxy);
  let n = 0;
  for (let k = 0; k < nz; k++) {
    const off = k * sxy;
    let any = false;
    for (let p = 0; p < sxy; p++) {
      const v = labels[off + p] === value ? 1 : 0;
      slice[p] = v;
      if (v) any = true;
    }
    if (!any) continue;
    filler.holes(slice, 0, (a, b) => {
      for (let p = a; p < b; p++) {
        if (labels[off + p] === 0) {
          labels[off + p] = value;
          n++;
        }
      }
    }, maxHolePixels);
  }
  return n;
}
