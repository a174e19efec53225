import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateChestPhantom } from '../../dicom/phantom/index.ts';
import type { PhantomOptions } from '../../dicom/phantom/index.ts';
import { dice } from '../metrics.ts';
import { qcFailures, qcLungs } from '../qc.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import { lungLabelValues } from './manifest.ts';

/**
 * Gate (issue 3): Dice ≥ 0.97 per lung on the chest phantoms, whatever the patient position, slice
 * tilt or anterior junction; left and right never swapped.
 */
const seg = createClassicalLungSegmenter();
const { left, right } = lungLabelValues(seg.manifest);

const cases: [string, PhantomOptions][] = [
  ['HFS 256²×120 (default)', {}],
  ['anterior junction (lungs touch)', { anteriorJunction: true, size: 160, slices: 90 }],
  ['FFS', { patientPosition: 'FFS', size: 160, slices: 90 }],
  ['HFP', { patientPosition: 'HFP', size: 160, slices: 90 }],
  ['FFP + junction, other seed', { patientPosition: 'FFP', anteriorJunction: true, size: 200, slices: 100, seed: 7 }],
  ['oblique 20°', { obliqueDeg: 20, size: 160, slices: 90 }],
];

for (const [name, opts] of cases) {
  test(`phantom ${name}: Dice ≥ 0.97 per lung, sides right, QC passes`, async () => {
    const p = generateChestPhantom(opts);
    const labels = await seg.segment(p.volume);
    const dl = dice(labels.data, p.truth.Lung_L, left, 1);
    const dr = dice(labels.data, p.truth.Lung_R, right, 1);
    process.stdout.write(`# phantom ${name}: Dice Lung_L=${dl.toFixed(4)} Lung_R=${dr.toFixed(4)} split=${seg.lastRun?.split}\n`);
    assert.ok(dl >= 0.97, `Lung_L ${dl}`);
    assert.ok(dr >= 0.97, `Lung_R ${dr}`);
    assert.ok(dice(labels.data, p.truth.Lung_R, left, 1) < 0.05, 'left label on the right lung');
    if (opts.anteriorJunction === true) assert.equal(seg.lastRun?.split, 'erosion', 'touching lungs needed splitting');
    const qc = qcLungs(p.volume, labels, seg.manifest);
    assert.ok(qc.ok, qcFailures(qc).join('; '));
    // the liver dome, which the lung wraps around (a hole in an axial slice), is not lung
    const liver = p.truth.Liver;
    if (liver) {
      let inLung = 0;
      let total = 0;
      for (let q = 0; q < liver.length; q++) {
        if (liver[q] === 0) continue;
        total++;
        if (labels.data[q] !== 0) inLung++;
      }
      assert.ok(inLung <= 0.01 * total, `${inLung} of ${total} liver voxels labelled lung`);
    }
    // the main bronchi are not lung (phantom truth leaves them out)
    for (const b of ['Bronchus_L', 'Bronchus_R', 'Trachea']) {
      const m = p.truth[b];
      if (!m) continue;
      const inLung = dice(labels.data, m, left, 1) + dice(labels.data, m, right, 1);
      assert.ok(inLung < 0.5, `${b} mostly labelled as lung (${inLung})`);
    }
  });
}
