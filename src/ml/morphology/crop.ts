import type { Vec3, VolumeGeometry } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { firstNonZero, lastNonZero, zeroWordsView } from './zero-words.ts';

/** An axis-aligned index box [lo, hi) within a grid. */
export interface Box {
  readonly lo: Vec3;
  readonly hi: Vec3;
}

/** Bounding box of mask != 0, grown by `margin` voxels and clipped to the grid; undefined if empty. */
export function boundingBox(mask: Uint8Array, dims: Vec3, margin = 0): Box | undefined {
  const [nx, ny, nz] = dims;
  let i0 = nx, j0 = ny, k0 = nz, i1 = -1, j1 = -1, k1 = -1;
  // Per row: the first non-zero voxel from the left and the last from the right, skipping zero
  // words four voxels at a time: the rows' empty margins and empty rows cost a quarter of a pass.
  const words = zeroWordsView(mask);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      const first = firstNonZero(mask, words, row, row + nx);
      if (first < 0) continue;
      const last = lastNonZero(mask, words, first, row + nx);
      if (first - row < i0) i0 = first - row;
      if (last - row > i1) i1 = last - row;
      if (j < j0) j0 = j;
      if (j > j1) j1 = j;
      if (k < k0) k0 = k;
      if (k > k1) k1 = k;
    }
  }
  if (i1 < 0) return undefined;
  return {
    lo: [Math.max(0, i0 - margin), Math.max(0, j0 - margin), Math.max(0, k0 - margin)],
    hi: [Math.min(nx, i1 + 1 + margin), Math.min(ny, j1 + 1 + margin), Math.min(nz, k1 + 1 + margin)],
  };
}

export function boxDims(b: Box): Vec3 {
  return [b.hi[0] - b.lo[0], b.hi[1] - b.lo[1], b.hi[2] - b.lo[2]];
}

type Grid = Uint8Array | Int16Array | Float32Array;

/** Copy the box out of an x-fastest grid (same element type as the source). */
export function cropMask<T extends Grid>(src: T, dims: Vec3, b: Box): T {
  const [cx, cy, cz] = boxDims(b);
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(cx * cy * cz);
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const s = b.lo[0] + (b.lo[1] + j) * dims[0] + (b.lo[2] + k) * dims[0] * dims[1];
      out.set(src.subarray(s, s + cx) as never, (j + k * cy) * cx);
    }
  }
  return out;
}

/** The box `inner`, given relative to the box `outer`, in the coordinates of outer's grid. */
export function nestBox(outer: Box, inner: Box): Box {
  return {
    lo: [outer.lo[0] + inner.lo[0], outer.lo[1] + inner.lo[1], outer.lo[2] + inner.lo[2]],
    hi: [outer.lo[0] + inner.hi[0], outer.lo[1] + inner.hi[1], outer.lo[2] + inner.hi[2]],
  };
}

/** Write a cropped grid back into the box of a full one. */
export function pasteMask(dst: Uint8Array, dims: Vec3, b: Box, crop: Uint8Array): void {
  const [cx, cy, cz] = boxDims(b);
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const d = b.lo[0] + (b.lo[1] + j) * dims[0] + (b.lo[2] + k) * dims[0] * dims[1];
      dst.set(crop.subarray((j + k * cy) * cx, (j + k * cy) * cx + cx), d);
    }
  }
}

/** Geometry of the box: same spacing and directions, origin moved to the box's first voxel. */
export function boxGeometry(g: VolumeGeometry, b: Box): VolumeGeometry {
  return { dims: boxDims(b), spacing: g.spacing, direction: g.direction, origin: indexToPatient(g, b.lo[0], b.lo[1], b.lo[2]) };
}
