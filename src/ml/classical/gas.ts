import type { Volume } from '../../core/volume.ts';
import type { Box } from '../morphology/crop.ts';
import { boxDims } from '../morphology/crop.ts';
import { RunLabeler } from '../morphology/runs.ts';

/**
 * Remove gas pockets from the air-inside-body mask (on the body's box), in place; returns the voxels
 * removed. Lung parenchyma is air and tissue (alveolar walls, capillaries, small vessels): even
 * emphysematous lung stays well above −950 HU for most of its voxels, while gas in the bowel or the
 * stomach, free abdominal air and an isolated airway are pure air, around −1000 HU. A 3-D component
 * more than half of whose voxels lie below `gasHu` is therefore not lung, wherever it lies.
 * (Emphysema index: the fraction of lung below −950 HU, ~1–5 % normal, rarely above 40 % — Gevenois
 * et al., AJRCCM 1996.)
 */
export function removeGasPockets(air: Uint8Array, volume: Volume, box: Box, gasHu: number): { removed: number; pockets: number } {
  const [nx, ny] = volume.dims;
  const [cx, cy, cz] = boxDims(box);
  const rc = new RunLabeler().label(air, cx, cy, cz);
  const below = new Float64Array(rc.count + 1);
  const hu = volume.data;
  for (let r = 0; r < rc.nRuns; r++) {
    const k = (rc.line[r] / cy) | 0;
    const j = rc.line[r] - k * cy;
    const base = box.lo[0] + (box.lo[1] + j) * nx + (box.lo[2] + k) * nx * ny;
    let n = 0;
    for (let i = rc.start[r]; i < rc.end[r]; i++) if (hu[base + i] < gasHu) n++;
    below[rc.label[r]] += n;
  }
  const gas = new Uint8Array(rc.count + 1);
  let pockets = 0;
  for (let l = 1; l <= rc.count; l++) {
    if (2 * below[l] > rc.sizes[l]) {
      gas[l] = 1;
      pockets++;
    }
  }
  let removed = 0;
  for (let r = 0; r < rc.nRuns; r++) {
    if (gas[rc.label[r]] === 0) continue;
    const base = rc.line[r] * cx;
    air.fill(0, base + rc.start[r], base + rc.end[r]);
    removed += rc.end[r] - rc.start[r];
  }
  return { removed, pockets };
}
