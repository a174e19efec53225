import type { VolumeGeometry } from '../../core/volume.ts';
import { squaredDistanceToBackground } from './distance.ts';

/**
 * Morphological closing of one label by a ball of `radiusMm` (dilate, then erode), via two exact
 * distance transforms so the radius is in millimetres on any grid. Only background voxels are
 * added, so another label is never overwritten.
 */
export function closeLabel(labels: Uint8Array, g: VolumeGeometry, value: number, radiusMm: number): number {
  const r2 = radiusMm * radiusMm;
  const notLabel = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) notLabel[p] = labels[p] === value ? 0 : 1;
  // dilation: voxels within r of the label
  const toLabel = squaredDistanceToBackground(notLabel, g.dims, g.spacing, false);
  const outsideDilated = notLabel; // reuse: 1 where farther than r from the label
  for (let p = 0; p < labels.length; p++) outsideDilated[p] = toLabel[p] > r2 ? 1 : 0;
  // erosion of the dilated set: voxels farther than r from its outside stay
  const dilated = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) dilated[p] = outsideDilated[p] === 0 ? 1 : 0;
  const toOutside = squaredDistanceToBackground(dilated, g.dims, g.spacing, false);
  let added = 0;
  for (let p = 0; p < labels.length; p++) {
    if (labels[p] === 0 && dilated[p] === 1 && toOutside[p] > r2) {
      labels[p] = value;
      added++;
    }
  }
  return added;
}
