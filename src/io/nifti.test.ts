import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDfaError } from '../core/errors.ts';
import type { Vec3, VolumeGeometry } from '../core/volume.ts';
import { CIP64_DIR } from '../../test/support/testdata.ts';
import { encodeNifti, niftiToVolumeGrid, parseNifti, readNifti } from './nifti.ts';

const grid: VolumeGeometry = { dims: [4, 3, 2], spacing: [0.5, 0.75, 2], origin: [-10, 20, 30], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
const ramp = Uint8Array.from({ length: 24 }, (_, i) => i + 1);

test('encode → parse round trip keeps LPS geometry and voxel order (gzip and plain)', () => {
  for (const gzip of [true, false]) {
    const n = parseNifti(encodeNifti(grid, ramp, { gzip }));
    assert.deepEqual(n.dims, grid.dims);
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(n.origin[a] - grid.origin[a]) < 1e-5);
      assert.ok(Math.abs(n.spacing[a] - grid.spacing[a]) < 1e-6);
    }
    // RAS affine: x and y negated.
    assert.equal(n.affineRas[0][0], -0.5);
    assert.equal(n.affineRas[0][3], 10);
    assert.deepEqual(niftiToVolumeGrid(n, grid), ramp);
  }
});

test('niftiToVolumeGrid maps flipped axes without resampling and refuses other grids', () => {
  // The same voxels described from the opposite corner along x: i runs right-to-left.
  const flipped: VolumeGeometry = { ...grid, origin: [-10 + 3 * 0.5, 20, 30], direction: [[-1, 0, 0], [0, 1, 0], [0, 0, 1]] };
  const data = new Uint8Array(24);
  for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) data[3 - i + 4 * j + 12 * k] = ramp[i + 4 * j + 12 * k];
  assert.deepEqual(niftiToVolumeGrid(parseNifti(encodeNifti(flipped, data)), grid), ramp);
  const shifted = parseNifti(encodeNifti({ ...grid, origin: [-9, 20, 30] as Vec3 }, ramp));
  assert.throws(() => niftiToVolumeGrid(shifted, grid), (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY') && /offset/.test(e.message));
  const other = parseNifti(encodeNifti({ ...grid, spacing: [1, 0.75, 2] as Vec3 }, ramp));
  assert.throws(() => niftiToVolumeGrid(other, grid), (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY'));
});

test('corrupt or unsupported NIfTI input is a typed error', () => {
  assert.throws(() => parseNifti(new Uint8Array(10), 'tiny.nii'), (e) => isDfaError(e) && /tiny\.nii/.test(e.message));
  const bytes = encodeNifti(grid, ramp, { gzip: false });
  assert.throws(() => parseNifti(bytes.subarray(0, bytes.length - 5), 'cut.nii'), (e) => isDfaError(e) && /truncated/.test(e.message));
  const bad = bytes.slice();
  bad[0] = 1;
  assert.throws(() => parseNifti(bad, 'bad.nii'), (e) => isDfaError(e) && /not a NIfTI-1/.test(e.message));
});

test('CIP 64 lung masks: uint8 on a 64×64×79 grid; left + right = whole lung', async () => {
  const [all, left, right] = await Promise.all(['lung_mask', 'lung_left_mask', 'lung_right_mask'].map((n) => readNifti(join(CIP64_DIR, `${n}.nii.gz`))));
  assert.deepEqual(all.dims, [64, 64, 79]);
  assert.equal(all.datatype, 2);
  let mismatch = 0;
  let n = 0;
  for (let i = 0; i < all.data.length; i++) {
    if ((all.data[i] ? 1 : 0) !== ((left.data[i] ? 1 : 0) | (right.data[i] ? 1 : 0))) mismatch++;
    n += all.data[i] ? 1 : 0;
  }
  assert.equal(mismatch, 0);
  // ≈ 4.55 L (testdata README).
  const ml = (n * all.spacing[0] * all.spacing[1] * all.spacing[2]) / 1000;
  assert.ok(Math.abs(ml - 4550) < 100, `${ml} mL`);
});
