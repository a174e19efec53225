import type { Vec3, Volume, VolumeGeometry } from '../../core/volume.ts';

/**
 * The classical steps work slice by slice in axial planes (body outline, trachea tracking, vessel
 * hole filling). A sagittal or coronal series is therefore re-ordered so that its k axis is the one
 * closest to the patient's head-foot axis (LPS z), segmented, and the labels re-ordered back. A
 * pure re-indexing: voxel centres and patient coordinates are unchanged.
 */
export type AxisOrder = readonly [number, number, number];

/** New axis a is old axis order[a]; undefined when the volume is already axial-ordered. */
export function axialOrder(g: VolumeGeometry): AxisOrder | undefined {
  const z = [0, 1, 2].map((a) => Math.abs(g.direction[a][2]));
  const k = z.indexOf(Math.max(...z));
  if (k === 2) return undefined;
  const rest = [0, 1, 2].filter((a) => a !== k);
  return [rest[0], rest[1], k];
}

function strides(dims: Vec3): Vec3 {
  return [1, dims[0], dims[0] * dims[1]];
}

/** Re-order a grid's data: out[new index] = data[old index] with new axis a = old axis order[a]. */
function reorder<T extends Uint8Array | Int16Array | Float32Array>(data: T, dims: Vec3, order: AxisOrder): T {
  const nd: Vec3 = [dims[order[0]], dims[order[1]], dims[order[2]]];
  const os = strides(dims);
  const s0 = os[order[0]];
  const s1 = os[order[1]];
  const s2 = os[order[2]];
  const Ctor = data.constructor as new (n: number) => T;
  const out = new Ctor(data.length);
  let q = 0;
  for (let k = 0; k < nd[2]; k++) {
    for (let j = 0; j < nd[1]; j++) {
      let p = k * s2 + j * s1;
      for (let i = 0; i < nd[0]; i++, p += s0) out[q++] = data[p];
    }
  }
  return out;
}

function reorderGeometry(g: VolumeGeometry, order: AxisOrder): VolumeGeometry {
  return {
    dims: [g.dims[order[0]], g.dims[order[1]], g.dims[order[2]]],
    spacing: [g.spacing[order[0]], g.spacing[order[1]], g.spacing[order[2]]],
    direction: [g.direction[order[0]], g.direction[order[1]], g.direction[order[2]]],
    origin: g.origin,
  };
}

/** The volume in axial order. */
export function toAxialOrder(volume: Volume, order: AxisOrder): Volume {
  return { ...reorderGeometry(volume, order), data: reorder(volume.data, volume.dims, order), meta: volume.meta };
}

/** Labels computed on the axial-ordered grid, back on the original grid (`dims` = original dims). */
export function fromAxialOrder(labels: Uint8Array, originalDims: Vec3, order: AxisOrder): Uint8Array {
  const inverse = [0, 0, 0];
  for (let a = 0; a < 3; a++) inverse[order[a]] = a;
  const axialDims: Vec3 = [originalDims[order[0]], originalDims[order[1]], originalDims[order[2]]];
  return reorder(labels, axialDims, inverse as unknown as AxisOrder);
}
