import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3, VolumeGeometry } from '../core/volume.ts';
import { lungsFromMask, splitBySide } from './truth.ts';

// Two blocks ("lungs") on a 20×8×4 grid: i 2..7 and i 11..17, joined by a thin bridge at j = 0.
function twoLungs(): Uint8Array {
  const [nx, ny, nz] = [20, 8, 4];
  const m = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) if ((i >= 2 && i <= 7) || (i >= 11 && i <= 17) || (j === 0 && k === 0 && i >= 2 && i <= 17)) m[i + j * nx + k * nx * ny] = 1;
    }
  }
  return m;
}

const grid = (xDir: 1 | -1): VolumeGeometry => ({
  dims: [20, 8, 4],
  spacing: [2, 2, 3],
  origin: [xDir > 0 ? -20 : 20, 0, 0],
  direction: [[xDir, 0, 0], [0, 1, 0], [0, 0, 1]] as [Vec3, Vec3, Vec3],
});

test('splitBySide: patient left is +x in LPS whichever way the columns run', () => {
  const m = twoLungs();
  const count = (a: Uint8Array, lo: number, hi: number) => {
    let n = 0;
    for (let p = 0; p < a.length; p++) if (a[p] && p % 20 >= lo && p % 20 <= hi) n++;
    return n;
  };
  // columns run to patient left (+x): the high-i block is the left lung
  const a = splitBySide(m, grid(1));
  assert.equal(count(a.left, 11, 17), 7 * 8 * 4);
  assert.equal(count(a.left, 0, 8), 0);
  assert.equal(count(a.right, 2, 7), 6 * 8 * 4);
  // columns run to patient right (−x, as after a flip): the low-i block is the left lung
  const b = splitBySide(m, grid(-1));
  assert.equal(count(b.left, 2, 7), 6 * 8 * 4);
  assert.equal(count(b.right, 11, 17), 7 * 8 * 4);
  // every voxel lands on exactly one side (the bridge is cut at the gap)
  for (let p = 0; p < m.length; p++) assert.equal(a.left[p] + a.right[p], m[p]);
  assert.ok(a.splitX! > -20 + 7 * 2 && a.splitX! < -20 + 11 * 2, `split at ${a.splitX}`);
});

test('lungsFromMask: two label values are sides by position, not by number; empty masks stay empty', () => {
  const m = twoLungs();
  const labelled = Uint8Array.from(m, (v, p) => (v ? (p % 20 >= 10 ? 1 : 2) : 0)); // 1 on the high-i block
  const { masks } = lungsFromMask(labelled, grid(-1)); // high i is patient right here
  assert.equal(masks.get('Lung_R')![11 + 8 * 20], 1);
  assert.equal(masks.get('Lung_L')![3 + 8 * 20], 1);
  const empty = lungsFromMask(new Uint8Array(m.length), grid(1));
  assert.equal(empty.masks.get('Lung_L')!.reduce((s, v) => s + v, 0), 0);
});
