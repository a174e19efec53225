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
  assert.ok(qcLungs(volume, labels, seg.manifest).ok);
});

for (const oesophagusAir of [false, true]) test(`trachea and main bronchi outside the lungs are not labelled${oesophagusAir ? ' (air in the oesophagus beside them)' : ''}`, async () => {
  const { volume, airway } = syntheticChest({ oesophagusAir });
  const labels = await seg.segment(volume);
  let labelled = 0;
  let airwayVoxels = 0;
  for (let p = 0; p < airway.length; p++) {
    if (airway[p] === 0) continue;
    airwayVoxels++;
    if (labels.data[p] !== 0) labelled++;
  }
  assert.ok(airwayVoxels > 100);
  assert.ok(labelled <= 0.05 * airwayVoxels, `${labelled} of ${airwayVoxels} airway voxels labelled`);
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

test('sagittal and coronal orderings of the same chest give the same lungs', async () => {
  const { volume, truth } = syntheticChest({ anteriorJunction: true });
  const [nx, ny, nz] = volume.dims;
  // re-store the chest with k running left-right (sagittal slices) or front-back (coronal)
  for (const order of [[2, 1, 0], [0, 2, 1]] as const) {
    const dims = [volume.dims[order[0]], volume.dims[order[1]], volume.dims[order[2]]] as const;
    const data = new Int16Array(volume.data.length);
    const t = new Uint8Array(truth.length);
    const idx = [0, 0, 0];
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          idx[0] = i;
          idx[1] = j;
          idx[2] = k;
          const q = idx[order[0]] + idx[order[1]] * dims[0] + idx[order[2]] * dims[0] * dims[1];
          data[q] = volume.data[i + j * nx + k * nx * ny];
          t[q] = truth[i + j * nx + k * nx * ny];
        }
      }
    }
    const v = {
      ...volume,
      dims,
      spacing: [volume.spacing[order[0]], volume.spacing[order[1]], volume.spacing[order[2]]] as const,
      direction: [volume.direction[order[0]], volume.direction[order[1]], volume.direction[order[2]]] as const,
      data,
    };
    const labels = await seg.segment(v);
    assert.deepEqual(labels.dims, dims);
    assert.ok(dice(labels.data, t, left, 1) >= 0.97, `order ${order.join('')}: left ${dice(labels.data, t, left, 1)}`);
    assert.ok(dice(labels.data, t, right, 2) >= 0.97, `order ${order.join('')}: right ${dice(labels.data, t, right, 2)}`);
  }
});

test('Float32 HU volumes (rescaled data) segment the same as Int16', async () => {
  const { volume, truth } = syntheticChest({ seed: 5 });
  const asFloat = { ...volume, data: Float32Array.from(volume.data, (v) => v + 0.25) };
  const a = await seg.segment(volume);
  const b = await seg.segment(asFloat);
  assert.ok(dice(b.data, truth, left, 1) >= 0.97);
  assert.ok(dice(a.data, b.data, left) > 0.99 && dice(a.data, b.data, right) > 0.99);
});

test('bowel gas under the diaphragm, big enough to pass the size filter, is not lung', async () => {
  const { volume, truth } = syntheticChest({ bowelGas: true, dims: [80, 64, 60] });
  const labels = await seg.segment(volume);
  let gas = 0;
  let gasLabelled = 0;
  for (let p = 0; p < truth.length; p++) {
    if (truth[p] !== 0 || volume.data[p] > -900 || labels.data[p] === 0) continue;
    gasLabelled++;
  }
  for (let p = 0; p < truth.length; p++) if (truth[p] === 0 && volume.data[p] < -900) gas++;
  assert.ok(gas > 0);
  assert.ok(gasLabelled < 50, `${gasLabelled} gas voxels labelled`);
  assert.ok(dice(labels.data, truth, left, 1) >= 0.97);
  assert.ok(dice(labels.data, truth, right, 2) >= 0.97);
});
