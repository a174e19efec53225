/**
 * Times the shipped ONNX lung U-Net on a full-size phantom and prints Dice per lung.
 *
 *   npx node ml/train/bench-onnx.ts [--size 512] [--slices 300] [--threads 2]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateChestPhantom } from '../../src/dicom/phantom/generate.ts';
import { labelByRoiName } from '../../src/ml/manifest.ts';
import { dice } from '../../src/ml/metrics.ts';
import { createOnnxSegmenter } from '../../src/ml/onnx/onnx-segmenter.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    slices: { type: 'string', default: '300' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '3' },
  },
});
const t0 = performance.now();
const ph = generateChestPhantom({ size: Number(values.size), slices: Number(values.slices), seed: Number(values.seed) });
const tGen = performance.now() - t0;
const seg = await createOnnxSegmenter(fileURLToPath(new URL('../../models/lung-unet/manifest.json', import.meta.url)), {
  intraOpNumThreads: Number(values.threads),
});
const t1 = performance.now();
const out = await seg.segment(ph.volume);
const tSeg = performance.now() - t1;
await seg.release();
const L = labelByRoiName(seg.manifest, 'Lung_L').value;
const R = labelByRoiName(seg.manifest, 'Lung_R').value;
const row = {
  volume: ph.volume.dims.join('x'),
  spacing: ph.volume.spacing.map((s) => s.toFixed(2)).join('x'),
  phantomMs: Math.round(tGen),
  onnxSegmentMs: Math.round(tSeg),
  diceL: Number(dice(out.data, ph.truth.Lung_L, L, 1).toFixed(4)),
  diceR: Number(dice(out.data, ph.truth.Lung_R, R, 1).toFixed(4)),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  threads: Number(values.threads),
};
process.stdout.write(JSON.stringify(row) + '\n');
