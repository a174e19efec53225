/**
 * The shipped lung U-Net, beside the classical segmenter:
 * - the real chest CT (CIP, 64×64×79, 4.2 mm) against its ground-truth masks. NOT held out: its
 *   slices were in the training set with classical-segmenter pseudo-labels (never its ground truth);
 * - the project's chest phantom (src/dicom/phantom): held out, a different generator from training,
 *   stored feet-first so rows run right-to-left; plus the shared Segmenter contract.
 * Measured at commit: real CT 0.978 / 0.980 (classical 0.986 / 0.988), phantom FFS 0.986 / 0.985,
 * oblique 20° 0.980 / 0.983, prone 0.986 / 0.985, anterior junction 0.980 / 0.980.
 * Gates: 0.95 per lung (the gate), which these clear by ≥ 0.028.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { CIP64_DICOM_DIR, CIP64_DIR } from '../../../test/support/testdata.ts';
import { generateChestPhantom } from '../../dicom/phantom/generate.ts';
import { loadVolumeFromDir } from '../../dicom/volume/index.ts';
import { createClassicalLungSegmenter } from '../classical/lung-segmenter.ts';
import { readNifti, niftiToVolumeGrid } from '../io/nifti.ts';
import { dice } from '../metrics.ts';
import { labelByRoiName } from '../manifest.ts';
import { segmenterContract } from '../segmenter.contract.ts';
import { createOnnxSegmenter } from './onnx-segmenter.ts';

const MANIFEST = fileURLToPath(new URL('../../../models/lung-unet/manifest.json', import.meta.url));
const seg = await createOnnxSegmenter(MANIFEST, { intraOpNumThreads: 1 });
after(async () => {
  await seg.release();
});
const L = labelByRoiName(seg.manifest, 'Lung_L').value;
const R = labelByRoiName(seg.manifest, 'Lung_R').value;

segmenterContract('onnx lung-unet', async () => Promise.resolve(seg));

test('real CT (CIP): Dice ≥ 0.95 per lung against ground truth, sides never swapped', async (t) => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const gtL = niftiToVolumeGrid(await readNifti(join(CIP64_DIR, 'lung_left_mask.nii.gz')), volume);
  const gtR = niftiToVolumeGrid(await readNifti(join(CIP64_DIR, 'lung_right_mask.nii.gz')), volume);
  const out = await seg.segment(volume);
  const dl = dice(out.data, gtL, L, 1);
  const dr = dice(out.data, gtR, R, 1);
  const classical = createClassicalLungSegmenter();
  const c = await classical.segment(volume);
  const cl = labelByRoiName(classical.manifest, 'Lung_L').value;
  const cr = labelByRoiName(classical.manifest, 'Lung_R').value;
  t.diagnostic(`ONNX U-Net Dice L ${dl.toFixed(4)} R ${dr.toFixed(4)}; classical L ${dice(c.data, gtL, cl, 1).toFixed(4)} R ${dice(c.data, gtR, cr, 1).toFixed(4)}`);
  // swapped sides would score near 0 here
  assert.ok(dice(out.data, gtR, L, 1) < 0.05 && dice(out.data, gtL, R, 1) < 0.05, 'left and right swapped or merged');
  assert.ok(dl >= 0.95, `Lung_L Dice ${dl}`);
  assert.ok(dr >= 0.95, `Lung_R Dice ${dr}`);
});

test('chest phantom (other generator, patient feet-first so rows run right-to-left): Dice ≥ 0.95 per lung', async (t) => {
  for (const patientPosition of ['FFS'] as const) {
    const ph = generateChestPhantom({ size: 128, slices: 72, seed: 5, patientPosition });
    const out = await seg.segment(ph.volume);
    const dl = dice(out.data, ph.truth.Lung_L, L, 1);
    const dr = dice(out.data, ph.truth.Lung_R, R, 1);
    t.diagnostic(`${patientPosition}: ONNX U-Net Dice L ${dl.toFixed(4)} R ${dr.toFixed(4)}`);
    assert.ok(dl >= 0.95, `${patientPosition} Lung_L Dice ${dl}`);
    assert.ok(dr >= 0.95, `${patientPosition} Lung_R Dice ${dr}`);
  }
});

test('phantom variants: oblique 20°, prone (HFP), lungs touching at the anterior junction: Dice ≥ 0.95 per lung', async (t) => {
  const variants = [{ obliqueDeg: 20 }, { patientPosition: 'HFP' as const }, { anteriorJunction: true }];
  for (const v of variants) {
    const ph = generateChestPhantom({ size: 128, slices: 72, seed: 7, ...v });
    const out = await seg.segment(ph.volume);
    const dl = dice(out.data, ph.truth.Lung_L, L, 1);
    const dr = dice(out.data, ph.truth.Lung_R, R, 1);
    t.diagnostic(`${JSON.stringify(v)}: Dice L ${dl.toFixed(4)} R ${dr.toFixed(4)}`);
    assert.ok(dl >= 0.95 && dr >= 0.95, `${JSON.stringify(v)}: L ${dl} R ${dr}`);
  }
});
