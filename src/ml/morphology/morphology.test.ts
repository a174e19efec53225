import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../core/volume.ts';
import { labelComponents3d } from './components.ts';
import { boundingBox, boxDims, cropMask, pasteMask } from './crop.ts';
import { squaredDistanceToBackground } from './distance.ts';
import { fillHolesPerSlice, fillLabelHolesPerSlice } from './fill-holes.ts';
import { RunLabeler } from './runs.ts';
import { closeLabel } from './closing.ts';

function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** Labellings agree when they partition the voxels the same way (label numbers may differ). */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let p = 0; p < a.length; p++) {
    if ((a[p] === 0) !== (b[p] === 0)) return false;
    if (a[p] === 0) continue;
    if ((ab.get(a[p]) ?? b[p]) !== b[p] || (ba.get(b[p]) ?? a[p]) !== a[p]) return false;
    ab.set(a[p], b[p]);
    ba.set(b[p], a[p]);
  }
  return true;
}

test('run-length labelling partitions like a 6-connected flood fill (random masks)', () => {
  const rnd = random(7);
  const labeler = new RunLabeler();
  // 16 columns takes the word-at-a-time skip of empty lines, 17 the plain scan
  for (const [density, dims] of [[0.3, [17, 13, 11]], [0.5, [17, 13, 11]], [0.7, [17, 13, 11]], [0.05, [16, 13, 11]], [0.4, [16, 13, 11]]] as [number, Vec3][]) {
    const mask = new Uint8Array(dims[0] * dims[1] * dims[2]).map(() => (rnd() < density ? 1 : 0));
    const flood = labelComponents3d(mask, dims, 6);
    const rc = labeler.label(mask, dims[0], dims[1], dims[2]);
    const perVoxel = new Int32Array(mask.length);
    for (let r = 0; r < rc.nRuns; r++) perVoxel.fill(rc.label[r], rc.line[r] * dims[0] + rc.start[r], rc.line[r] * dims[0] + rc.end[r]);
    assert.equal(rc.count, flood.count, `density ${density}`);
    assert.ok(samePartition(perVoxel, flood.labels));
    const sizes = [...rc.sizes].slice(1).sort((a, b) => a - b);
    assert.deepEqual(sizes, [...flood.sizes].slice(1).sort((a, b) => a - b));
  }
});

test('labelling straight from HU above a threshold equals labelling the thresholded mask', () => {
  const rnd = random(9);
  const dims: Vec3 = [19, 9, 7];
  const hu = Int16Array.from({ length: dims[0] * dims[1] * dims[2] }, () => Math.round(rnd() * 2000 - 1000));
  const a = new RunLabeler().labelAbove(hu, -200, dims[0], dims[1], dims[2]);
  const b = new RunLabeler().label(Uint8Array.from(hu, (v) => (v > -200 ? 1 : 0)), dims[0], dims[1], dims[2]);
  assert.equal(a.count, b.count);
  assert.deepEqual([...a.sizes], [...b.sizes]);
  assert.deepEqual([...a.start], [...b.start]);
  assert.deepEqual([...a.label], [...b.label]);
});

test('26-connectivity joins diagonal neighbours that 6-connectivity keeps apart', () => {
  const dims: Vec3 = [3, 3, 3];
  const mask = new Uint8Array(27);
  mask[0] = 1; // (0,0,0)
  mask[13] = 1; // (1,1,1)
  assert.equal(labelComponents3d(mask, dims, 6).count, 2);
  assert.equal(labelComponents3d(mask, dims, 26).count, 1);
});

test('distance transform equals brute force on an anisotropic grid', () => {
  const rnd = random(3);
  const dims: Vec3 = [9, 7, 6];
  const spacing: Vec3 = [0.7, 1.3, 2.5];
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]).map(() => (rnd() < 0.85 ? 1 : 0));
  for (const outside of [true, false]) {
    const d2 = squaredDistanceToBackground(mask, dims, spacing, outside);
    let p = 0;
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        for (let i = 0; i < dims[0]; i++, p++) {
          let best = mask[p] === 0 ? 0 : Infinity;
          if (mask[p] !== 0) {
            let q = 0;
            for (let c = 0; c < dims[2]; c++) for (let b = 0; b < dims[1]; b++) for (let a = 0; a < dims[0]; a++, q++) {
              if (mask[q] === 0) best = Math.min(best, ((a - i) * spacing[0]) ** 2 + ((b - j) * spacing[1]) ** 2 + ((c - k) * spacing[2]) ** 2);
            }
            if (outside) {
              for (const [n, s, x] of [[dims[0], spacing[0], i], [dims[1], spacing[1], j], [dims[2], spacing[2], k]] as const) {
                best = Math.min(best, ((x + 1) * s) ** 2, ((n - x) * s) ** 2);
              }
            }
          }
          const got = d2[p] >= 1e19 ? Infinity : d2[p];
          assert.ok(Math.abs(got - best) < 1e-3 || got === best, `(${i},${j},${k}) outside=${outside}: ${got} vs ${best}`);
        }
      }
    }
  }
});

test('hole filling fills enclosed background only, per slice', () => {
  // 7x7 ring with a hole in the middle, and a C-shape open to the edge
  const nx = 7, ny = 7;
  const ring = [
    '.......',
    '.#####.',
    '.#...#.',
    '.#...#.',
    '.#####.',
    '.......',
    '#.#....',
  ].join('');
  const mask = Uint8Array.from(ring, (c) => (c === '#' ? 1 : 0));
  const before = mask.slice();
  const n = fillHolesPerSlice(mask, nx, ny, 1);
  assert.equal(n, 6);
  for (let p = 0; p < mask.length; p++) {
    const j = (p / nx) | 0, i = p % nx;
    const inside = j >= 2 && j <= 3 && i >= 2 && i <= 4;
    assert.equal(mask[p], inside ? 1 : before[p], `(${i},${j})`);
  }
  // a hole larger than the limit stays open
  const big = Uint8Array.from(ring, (c) => (c === '#' ? 1 : 0));
  assert.equal(fillHolesPerSlice(big, nx, ny, 1), 6);
  const limited = Uint8Array.from(ring, (c) => (c === '#' ? 1 : 0));
  assert.equal(fillLabelHolesPerSlice(limited, nx, ny, 1, 1, 5), 0);
  assert.equal(fillLabelHolesPerSlice(limited, nx, ny, 1, 1, 6), 6);
  // label variant keeps another label sitting inside the hole
  const labels = Uint8Array.from(ring, (c) => (c === '#' ? 1 : 0));
  labels[2 * nx + 3] = 2;
  fillLabelHolesPerSlice(labels, nx, ny, 1, 1);
  assert.equal(labels[2 * nx + 3], 2);
  assert.equal(labels[3 * nx + 3], 1);
});

test('crop and paste round-trip; bounding box with margin is clipped to the grid', () => {
  const dims: Vec3 = [6, 5, 4];
  const mask = new Uint8Array(120);
  mask[1 + 2 * 6 + 1 * 30] = 1;
  mask[4 + 3 * 6 + 2 * 30] = 1;
  const box = boundingBox(mask, dims, 1)!;
  assert.deepEqual(box, { lo: [0, 1, 0], hi: [6, 5, 4] });
  assert.equal(boundingBox(new Uint8Array(120), dims), undefined);
  const tight = boundingBox(mask, dims)!;
  const crop = cropMask(mask, dims, tight);
  assert.equal(crop.length, boxDims(tight).reduce((a, b) => a * b));
  const back = new Uint8Array(120);
  pasteMask(back, dims, tight, crop);
  assert.deepEqual(back, mask);
});

test('closing bridges a gap narrower than the radius and never overwrites another label', () => {
  const dims: Vec3 = [12, 3, 3];
  const g = { dims, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [Vec3, Vec3, Vec3] };
  const labels = new Uint8Array(108);
  for (let k = 0; k < 3; k++) for (let j = 0; j < 3; j++) for (const i of [1, 2, 3, 5, 6, 7]) labels[i + j * 12 + k * 36] = 1;
  labels[10 + 12 + 36] = 2;
  closeLabel(labels, g, 1, 1.5);
  assert.equal(labels[4 + 12 + 36], 1, 'one-voxel gap closed');
  assert.equal(labels[10 + 12 + 36], 2);
  assert.equal(labels[11 + 12 + 36], 0, 'nothing added beyond the ends');
});

test('labelling one value of a multi-label map equals labelling its mask (word skip inside lines too)', () => {
  const rnd = random(11);
  const labeler = new RunLabeler();
  for (const dims of [[16, 13, 11], [32, 9, 7], [17, 13, 11]] as Vec3[]) {
    // Sparse clumps of 1s and 2s on zeros: long zero stretches inside lines, as a label map has.
    const map = new Uint8Array(dims[0] * dims[1] * dims[2]).map(() => (rnd() < 0.75 ? 0 : rnd() < 0.5 ? 1 : 2));
    for (const value of [1, 2]) {
      const mask = Uint8Array.from(map, (v) => (v === value ? 1 : 0));
      const flood = labelComponents3d(mask, dims, 6);
      const rc = labeler.label(map, dims[0], dims[1], dims[2], true, 0, value);
      const perVoxel = new Int32Array(map.length);
      for (let r = 0; r < rc.nRuns; r++) perVoxel.fill(rc.label[r], rc.line[r] * dims[0] + rc.start[r], rc.line[r] * dims[0] + rc.end[r]);
      assert.equal(rc.count, flood.count, `dims ${dims.join('x')} value ${value}`);
      assert.ok(samePartition(perVoxel, flood.labels));
    }
  }
});

test('boundingBox (word skips in each row) equals a voxel-by-voxel scan, for any row length and alignment', () => {
  const rnd = random(13);
  const naive = (m: Uint8Array, [nx, ny, nz]: Vec3) => {
    let lo: Vec3 = [nx, ny, nz];
    let hi: Vec3 = [-1, -1, -1];
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      if (m[(k * ny + j) * nx + i] === 0) continue;
      lo = [Math.min(lo[0], i), Math.min(lo[1], j), Math.min(lo[2], k)];
      hi = [Math.max(hi[0], i + 1), Math.max(hi[1], j + 1), Math.max(hi[2], k + 1)];
    }
    return hi[0] < 0 ? undefined : { lo, hi };
  };
  for (const dims of [[16, 7, 5], [17, 7, 5], [13, 3, 4], [1, 9, 2], [40, 6, 3]] as Vec3[]) {
    for (const density of [0, 0.002, 0.02, 0.3]) {
      for (const offset of [0, 1, 2, 3]) {
        const n = dims[0] * dims[1] * dims[2];
        const buf = new Uint8Array(n + offset);
        const m = buf.subarray(offset);
        for (let p = 0; p < n; p++) m[p] = rnd() < density ? 1 + Math.floor(rnd() * 3) : 0;
        assert.deepEqual(boundingBox(m, dims), naive(m, dims), `dims ${dims.join('x')} density ${density} offset ${offset}`);
      }
    }
  }
  // A single voxel anywhere: every position of the row's head, words and tail.
  const dims: Vec3 = [23, 2, 2];
  for (let p = 0; p < 23 * 4; p++) {
    const m = new Uint8Array(23 * 4);
    m[p] = 1;
    assert.deepEqual(boundingBox(m, dims), naive(m, dims), `voxel ${p}`);
  }
});
