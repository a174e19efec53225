import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexToPatient, patientToIndex, type Vec3, type VolumeGeometry } from '../../core/volume.ts';
import { modelGrid, resampleLinear, resampleNearest } from './model-grid.ts';
import { blendingWeights, slidingWindow, windowStarts } from './sliding-window.ts';
import { keepLargestComponentPerLabel } from './postprocess.ts';

const geom = (dims: Vec3, spacing: Vec3, origin: Vec3, direction: readonly [Vec3, Vec3, Vec3]): VolumeGeometry => ({ dims, spacing, origin, direction });
const AXIAL: readonly [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
// Stored mirrored in x and y, slices running head → feet: the grid must still come out LPS.
const FLIPPED: readonly [Vec3, Vec3, Vec3] = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]];
// Oblique: rotated 30° about z and 20° about x (orthonormal).
const c30 = Math.cos(Math.PI / 6), s30 = Math.sin(Math.PI / 6), c20 = Math.cos(Math.PI / 9), s20 = Math.sin(Math.PI / 9);
const OBLIQUE: readonly [Vec3, Vec3, Vec3] = [
  [c30, s30, 0],
  [-s30 * c20, c30 * c20, s20],
  [s30 * s20, -c30 * s20, c20],
];

function fillLinear(g: VolumeGeometry, f: (p: [number, number, number]) => number): Float32Array {
  const d = new Float32Array(g.dims[0] * g.dims[1] * g.dims[2]);
  for (let k = 0, o = 0; k < g.dims[2]; k++) for (let j = 0; j < g.dims[1]; j++) for (let i = 0; i < g.dims[0]; i++, o++) d[o] = f(indexToPatient(g, i, j, k));
  return d;
}

test('model grid is axis-aligned LPS, covers the volume, and keeps native slices when z spacing is null', () => {
  const v = geom([40, 30, 12], [0.8, 0.8, 2.5], [100, -50, 30], FLIPPED);
  const g = modelGrid(v, [3, 3, null]);
  assert.deepEqual(g.direction, AXIAL);
  assert.equal(g.spacing[2], 2.5);
  assert.equal(g.dims[2], 12);
  // Slices coincide: grid slice z positions are the volume's (reversed) slice positions.
  const zs = Array.from({ length: 12 }, (_, k) => indexToPatient(v, 0, 0, k)[2]).sort((a, b) => a - b);
  for (let k = 0; k < 12; k++) assert.ok(Math.abs(indexToPatient(g, 0, 0, k)[2] - zs[k]) < 1e-9);
  // In-plane the grid covers the bounding box: x from 100 − 39·0.8 to 100.
  assert.equal(g.dims[0], Math.ceil((39 * 0.8) / 3) + 1);
  const centre = (g.origin[0] + indexToPatient(g, g.dims[0] - 1, 0, 0)[0]) / 2;
  assert.ok(Math.abs(centre - (100 - (39 * 0.8) / 2)) < 1e-9);
});

test('trilinear resampling reproduces a linear function of patient position on any orientation', () => {
  // Trilinear interpolation is exact for linear functions, so every interior grid voxel must get
  // f(its own patient position): this checks the index ↔ patient mapping through the resampler.
  const f = (p: [number, number, number]) => 2 * p[0] - 3 * p[1] + 0.5 * p[2] + 7;
  for (const dir of [AXIAL, FLIPPED, OBLIQUE]) {
    const v = geom([30, 26, 14], [1.1, 0.9, 2.0], [-10, 20, -5], dir);
    const data = fillLinear(v, f);
    const g = modelGrid(v, [1.7, 1.3, 1.9]);
    const out = resampleLinear(data, v, g, Number.NaN);
    let checked = 0;
    for (let k = 0, o = 0; k < g.dims[2]; k++)
      for (let j = 0; j < g.dims[1]; j++)
        for (let i = 0; i < g.dims[0]; i++, o++) {
          if (Number.isNaN(out[o])) continue;
          const p = indexToPatient(g, i, j, k);
          // Inside the source's voxel-centre box trilinear is exact; the half-voxel rim is clamped.
          const [a, b, c] = [0, 1, 2].map((ax) => {
            let d = 0;
            for (let q = 0; q < 3; q++) d += (p[q] - v.origin[q]) * v.direction[ax][q];
            return d / v.spacing[ax];
          });
          if (a < 0 || b < 0 || c < 0 || a > 29 || b > 25 || c > 13) continue;
          assert.ok(Math.abs(out[o] - f(p)) < 2e-3, `dir ${JSON.stringify(dir)} voxel ${i},${j},${k}: ${out[o]} vs ${f(p)}`);
          checked++;
        }
    assert.ok(checked > 500, `checked ${checked} voxels`);
  }
});

test('nearest resampling onto a flipped grid and back is the identity', () => {
  const v = geom([9, 7, 5], [1.5, 1.5, 3], [4, 5, 6], FLIPPED);
  const labels = new Uint8Array(9 * 7 * 5).map((_, i) => (i * 37) % 5);
  const g = modelGrid(v, [1.5, 1.5, null]);
  assert.deepEqual(g.dims, [9, 7, 5]);
  const there = resampleNearest(labels, v, g);
  const back = resampleNearest(there, g, v);
  assert.deepEqual(back, labels);
  // and really mirrored: volume voxel (0,0,0) sits at the grid's far corner
  assert.equal(there[8 + 6 * 9 + 4 * 63], labels[0]);
});

test('nearest resampling (axis-aligned fast path and oblique general path) matches a per-voxel reference', () => {
  for (const dir of [AXIAL, FLIPPED, OBLIQUE]) {
    const v = geom([17, 13, 7], [1.3, 1.1, 2.2], [3, -4, 5], dir);
    const labels = new Uint8Array(17 * 13 * 7).map((_, i) => 1 + ((i * 13) % 7));
    const g = modelGrid(v, [0.9, 1.7, 1.3]);
    const out = resampleNearest(labels, v, g);
    for (let k = 0, o = 0; k < g.dims[2]; k++)
      for (let j = 0; j < g.dims[1]; j++)
        for (let i = 0; i < g.dims[0]; i++, o++) {
          const idx = patientToIndex(v, indexToPatient(g, i, j, k)).map((x) => Math.floor(x + 0.5 + 1e-7));
          const inside = idx.every((x, a) => x >= 0 && x < v.dims[a]);
          // off-by-round-off only exactly on a half-voxel boundary; none here by construction of the spacings
          assert.equal(out[o], inside ? labels[idx[0] + idx[1] * 17 + idx[2] * 17 * 13] : 0, `voxel ${i},${j},${k}`);
        }
  }
});

test('window starts cover every index, and a small grid gets one centred window', () => {
  assert.deepEqual(windowStarts(5, 8, 0.5), [-2]);
  for (const [dim, patch, ov] of [[100, 32, 0.25], [33, 32, 0.5], [64, 64, 0], [200, 128, 0.25]]) {
    const starts = windowStarts(dim, patch, ov);
    const covered = new Uint8Array(dim);
    for (const s of starts) for (let i = s; i < s + patch; i++) covered[i] = 1;
    assert.ok(covered.every((c) => c === 1), `${dim}/${patch}`);
    assert.equal(starts.at(-1), dim - patch);
  }
});

test('sliding window with an identity network returns the image exactly, with Gaussian blending and overlap', async () => {
  const dims: Vec3 = [23, 19, 11];
  const image = new Float32Array(23 * 19 * 11).map((_, i) => Math.sin(i * 0.37));
  const identity = async (input: Float32Array) => Promise.resolve(new Float32Array(input));
  for (const patch of [[8, 8, 1], [8, 6, 4], [32, 32, 16]] as Vec3[]) {
    const probs = await slidingWindow(image, identity, { dims, patch, overlap: 0.5, blending: 'gaussian', batchSize: 5, channels: 1, fill: 0 });
    for (let v = 0; v < image.length; v++) assert.ok(Math.abs(probs[v] - image[v]) < 1e-5, `patch ${patch.join('x')} voxel ${v}`);
  }
  const w = blendingWeights([8, 8, 1], 'gaussian');
  assert.ok(Math.min(...w) > 0 && Math.max(...w) === 1);
});

test('keepLargestComponentPerLabel keeps one 6-connected component per label', () => {
  const dims: Vec3 = [6, 4, 2];
  const l = new Uint8Array(48);
  l.set([1, 1, 0, 1, 0, 2], 0); // row 0, slice 0: a pair of 1s, a lone 1, a 2
  l[6] = 1; // below the pair: the pair's component has 3 voxels
  l[24 + 5] = 2; // slice 1 under the 2: connected through z
  l[24 + 2 * 6 + 2] = 2; // an isolated 2
  keepLargestComponentPerLabel(l, dims, [1, 2]);
  assert.deepEqual([...l.slice(0, 7)], [1, 1, 0, 0, 0, 2, 1]);
  assert.equal(l[29], 2);
  assert.equal(l[24 + 14], 0);
});
