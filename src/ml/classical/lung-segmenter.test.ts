import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticChest } from '../../../test/support/synthetic-chest.ts';
import { isDfaError } from '../../core/errors.ts';
import { dice } from '../metrics.ts';
import { qcLungs } from '../qc.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import { lungLabelValues, shippedClassicalManifest } from './manifest.ts';

const seg = createClassicalLungSegmenter();
const { left, right } = lungLabelValues(seg.manifest);

test('synthetic chest: Dice ≥ 0.97 per lung, table and outside air excluded, QC passes', async () => {
  const { volume, truth } = syntheticChest();
  const labels = await seg.segment(volume);
  assert.deepEqual(labels.dims, volume.dims);
  assert.deepEqual(labels.origin, volume.origin);
  assert.ok(dice(labels.data, truth, left, 1) >= 0.97, `left ${dice(labels.data, truth, left, 1)}`);
  assert.ok(dice(labels.data, truth, right, 2) >= 0.97, `right ${dice(labels.data, truth, right, 2)}`);
  assert.equal(seg.lastRun?.split, 'components');
  assert.ok((seg.lastRun?.airwaySlices ?? 0) > 0, 'trachea found');
  assert.ok(qcLungs(labels, seg.manifest).ok);
});

test('trachea and main bronchi outside the lungs are not labelled', async () => {
  const { volume, truth } = syntheticChest();
  const labels = await seg.segment(volume);
  let tracheaLabelled = 0;
  let tracheaVoxels = 0;
  for (let p = 0; p < truth.length; p++) {
    if (truth[p] === 0 && volume.data[p] < -900) {
      // air inside the body that is not lung: trachea / bronchi (outside air is also < -900 but never labelled)
      tracheaVoxels++;
      if (labels.data[p] !== 0) tracheaLabelled++;
    }
  }
  assert.ok(tracheaVoxels > 0);
  assert.ok(tracheaLabelled <= 0.05 * tracheaVoxels, `${tracheaLabelled} airway voxels labelled`);
});

test('lungs touching at an anterior junction are split, sides right', async () => {
  const { volume, truth } = syntheticChest({ anteriorJunction: true });
  const labels = await seg.segment(volume);
  assert.equal(seg.lastRun?.split, 'erosion');
  assert.ok(dice(labels.data, truth, left, 1) >= 0.97);
  assert.ok(dice(labels.data, truth, right, 2) >= 0.97);
});

test('columns stored right-to-left: sides come from patient coordinates, not array order', async () => {
  const plain = syntheticChest();
  const flipped = syntheticChest({ flipRows: true });
  const a = await seg.segment(plain.volume);
  const b = await seg.segment(flipped.volume);
  assert.ok(dice(b.data, flipped.truth, left, 1) >= 0.97);
  assert.ok(dice(b.data, flipped.truth, right, 2) >= 0.97);
  // the same voxel in array order holds opposite lungs in the two volumes
  let opposite = 0;
  let both = 0;
  for (let p = 0; p < a.data.length; p++) {
    if (a.data[p] !== 0 && b.data[p] !== 0) {
      both++;
      if (a.data[p] !== b.data[p]) opposite++;
    }
  }
  assert.ok(both > 0 && opposite / both > 0.95);
});

test('finer grid (sizes are in mm): same result quality at 2 mm voxels', async () => {
  const { volume, truth } = syntheticChest({ dims: [160, 128, 112], spacing: [2, 2, 2.5], anteriorJunction: true });
  const labels = await seg.segment(volume);
  assert.ok(dice(labels.data, truth, left, 1) >= 0.97);
  assert.ok(dice(labels.data, truth, right, 2) >= 0.97);
});

test('label values come from the manifest', async () => {
  const m = shippedClassicalManifest();
  const swapped = { ...m, labels: m.labels.map((l) => ({ ...l, value: l.laterality === 'left' ? 7 : 9 })) };
  const s = createClassicalLungSegmenter(swapped);
  const { volume, truth } = syntheticChest();
  const labels = await s.segment(volume);
  assert.ok(dice(labels.data, truth, 7, 1) >= 0.97);
  assert.ok(dice(labels.data, truth, 9, 2) >= 0.97);
});

test('no air in the body: empty labels, not a crash; abort signal honoured; bad volume refused', async () => {
  const { volume } = syntheticChest({ dims: [20, 16, 8] });
  const solid = { ...volume, data: new Int16Array(volume.data.length).fill(40) };
  const labels = await seg.segment(solid);
  assert.equal(labels.data.reduce((a, b) => a + b, 0), 0);
  await assert.rejects(seg.segment(volume, { signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === 'AbortError');
  await assert.rejects(seg.segment({ ...volume, data: new Int16Array(3) }), (e) => isDfaError(e, 'SEGMENTATION_FAILED'));
});
