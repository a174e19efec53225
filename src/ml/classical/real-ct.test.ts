import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CIP64_DICOM_DIR, CIP64_DIR } from '../../../test/support/testdata.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { loadVolumeFromDir } from '../../dicom/volume/index.ts';
import { niftiToVolumeGrid, readNifti } from '../../io/nifti.ts';
import { dice, volumesMl } from '../metrics.ts';
import { qcFailures, qcLungs } from '../qc.ts';
import { IMLAB_IDS, imlabCase } from '../../../test/support/real-ct.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import { lungLabelValues } from './manifest.ts';

/**
 * GATE (issue 3): on the real COPDGene CT (../shared/testdata/ct-chest-cip64, 4 mm voxels) the
 * classical segmenter reaches Dice ≥ 0.95 per lung against the CIP ground truth, never swapping
 * left and right. The NIfTI truth is RAS; niftiToVolumeGrid maps it onto the DICOM (LPS) grid.
 */
const readMask = (name: string) => readNifti(join(CIP64_DIR, name));

test('real chest CT: Dice ≥ 0.95 per lung against ground truth, sides never swapped, QC passes', async () => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const truthL = niftiToVolumeGrid(await readMask('lung_left_mask.nii.gz'), volume);
  const truthR = niftiToVolumeGrid(await readMask('lung_right_mask.nii.gz'), volume);

  // The truth itself must agree with the coordinates: the left lung lies at larger LPS x.
  const meanX = (m: Uint8Array) => {
    let s = 0;
    let n = 0;
    const [nx, ny] = volume.dims;
    for (let p = 0; p < m.length; p++) {
      if (m[p] === 0) continue;
      const k = Math.floor(p / (nx * ny));
      const j = Math.floor((p - k * nx * ny) / nx);
      s += indexToPatient(volume, p - k * nx * ny - j * nx, j, k)[0];
      n++;
    }
    return s / n;
  };
  assert.ok(meanX(truthL) > meanX(truthR), 'truth: left lung at larger x');

  const seg = createClassicalLungSegmenter();
  const labels = await seg.segment(volume);
  const { left, right } = lungLabelValues(seg.manifest);
  const dl = dice(labels.data, truthL, left, 1);
  const dr = dice(labels.data, truthR, right, 1);
  const swapped = dice(labels.data, truthL, right, 1);
  process.stdout.write(`# cip64 classical Dice Lung_L=${dl.toFixed(4)} Lung_R=${dr.toFixed(4)} run=${JSON.stringify(seg.lastRun)}\n`);
  assert.ok(dl >= 0.95, `Lung_L Dice ${dl}`);
  assert.ok(dr >= 0.95, `Lung_R Dice ${dr}`);
  assert.ok(swapped < 0.1, 'left label does not overlap the right lung');

  const qc = qcLungs(volume, labels, seg.manifest);
  assert.ok(qc.ok, qcFailures(qc).join('; '));
  const reference = qcLungs(volume, bothLungs(volume, truthL, truthR, left, right), seg.manifest);
  assert.ok(reference.ok, `QC on the reference masks: ${qcFailures(reference).join('; ')}`);
  // README: lungs ≈ 4.55 L in total
  const v = volumesMl(labels, seg.manifest);
  const total = Object.values(v).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 4550) < 0.05 * 4550, `total ${total} mL`);
});

/** The two reference masks as one label map on the volume's grid. */
function bothLungs(volume: Volume, truthL: Uint8Array, truthR: Uint8Array, left: number, right: number): LabelMap {
  const data = new Uint8Array(volume.data.length);
  for (let p = 0; p < data.length; p++) data[p] = truthL[p] ? left : truthR[p] ? right : 0;
  const { dims, spacing, origin, direction } = volume;
  return { dims, spacing, origin, direction, data };
}

/**
 * GATE (issue 9): both imlab chest CTs (128×128×64, y flipped in the header, ringing clipped),
 * Dice ≥ 0.93 per lung against their one-label masks split by side (test/support/real-ct.ts).
 */
for (const id of IMLAB_IDS) {
  test(`real chest CT imlab ${id}: Dice ≥ 0.93 per lung, sides never swapped`, async () => {
    const c = await imlabCase(id);
    const seg = createClassicalLungSegmenter();
    const labels = await seg.segment(c.volume);
    const { left, right } = lungLabelValues(seg.manifest);
    const dl = dice(labels.data, c.truthL, left, 1);
    const dr = dice(labels.data, c.truthR, right, 1);
    process.stdout.write(`# imlab ${id} classical Dice Lung_L=${dl.toFixed(4)} Lung_R=${dr.toFixed(4)}\n`);
    assert.ok(dl >= 0.93, `Lung_L Dice ${dl}`);
    assert.ok(dr >= 0.93, `Lung_R Dice ${dr}`);
    assert.ok(dice(labels.data, c.truthL, right, 1) < 0.1, 'right label on the left lung');
    const qc = qcLungs(c.volume, labels, seg.manifest);
    assert.ok(qc.ok, qcFailures(qc).join('; '));
    const reference = qcLungs(c.volume, bothLungs(c.volume, c.truthL, c.truthR, left, right), seg.manifest);
    assert.ok(reference.ok, `QC on the reference masks: ${qcFailures(reference).join('; ')}`);
  });
}

test('imlab truth split: the left lung lies at larger LPS x whatever the header\'s row direction', async () => {
  const c = await imlabCase('id001');
  assert.equal(c.volume.direction[1][1], -1, 'this file stores rows posterior → anterior');
  const meanX = (m: Uint8Array) => {
    let s = 0;
    let n = 0;
    const [nx, ny] = c.volume.dims;
    for (let p = 0; p < m.length; p++) {
      if (m[p] === 0) continue;
      const k = Math.floor(p / (nx * ny));
      const j = Math.floor((p - k * nx * ny) / nx);
      s += indexToPatient(c.volume, p - k * nx * ny - j * nx, j, k)[0];
      n++;
    }
    return s / n;
  };
  assert.ok(meanX(c.truthL) > meanX(c.truthR) + 100);
});
