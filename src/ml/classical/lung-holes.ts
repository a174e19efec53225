import { RunLabeler } from '../morphology/runs.ts';

/**
 * Fill a lung's holes in every axial slice: vessel-sized ones always; larger ones only when they
 * are lung-like on average (below `ggoHu`: ground glass, a GGO nodule, a bulla's wall), because the
 * liver and heart domes the lung wraps around are holes too, at soft-tissue density.
 */
export function fillLungHoles(labels: Uint8Array, hu: Int16Array, nx: number, ny: number, nz: number, value: number, maxHolePixels: number, ggoHu: number): number {
  const sxy = nx * ny;
  const labeler = new RunLabeler();
  const slice = new Uint8Array(sxy);
  let n = 0;
  for (let k = 0; k < nz; k++) {
    const off = k * sxy;
    let any = false;
    for (let q = 0; q < sxy; q++) {
      const v = labels[off + q] === value ? 1 : 0;
      slice[q] = v;
      if (v) any = true;
    }
    if (!any) continue;
    const rc = labeler.label(slice, nx, ny, 1, false);
    const sum = new Float64Array(rc.count + 1);
    for (let t = 0; t < rc.nRuns; t++) {
      const base = off + rc.line[t] * nx;
      for (let q = base + rc.start[t]; q < base + rc.end[t]; q++) sum[rc.label[t]] += hu[q];
    }
    for (let t = 0; t < rc.nRuns; t++) {
      const l = rc.label[t];
      if (rc.touchesBorder[l] !== 0) continue;
      if (rc.sizes[l] > maxHolePixels && sum[l] / rc.sizes[l] >= ggoHu) continue;
      const base = off + rc.line[t] * nx;
      for (let q = base + rc.start[t]; q < base + rc.end[t]; q++) {
        if (labels[q] === 0) {
          labels[q] = value;
          n++;
        }
      }
    }
  }
  return n;
}
