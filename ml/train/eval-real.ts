/**
 * Dice per lung of an ONNX lung model on the three real CTs (ml/train/real-cases.ts), against their
 * ground truth; used for the leave-one-out table in README.md.
 *
 *   npx node ml/train/eval-real.ts [--manifest models/lung-unet/manifest.json] [--case cip64 ...] [--json]
 */
import { parseArgs } from 'node:util';
import { dice } from '../../src/ml/metrics.ts';
import { labelByRoiName } from '../../src/ml/manifest.ts';
import { createOnnxSegmenter } from '../../src/ml/onnx/onnx-segmenter.ts';
import { loadRealCases, REAL_CASES, sideVolumesMl, type RealCaseName } from './real-cases.ts';

const { values } = parseArgs({
  options: {
    manifest: { type: 'string', default: new URL('../../models/lung-unet/manifest.json', import.meta.url).pathname },
    case: { type: 'string', multiple: true, default: [...REAL_CASES] },
    json: { type: 'boolean', default: false },
  },
});
const seg = await createOnnxSegmenter(values.manifest, { intraOpNumThreads: 1 });
const L = labelByRoiName(seg.manifest, 'Lung_L').value;
const R = labelByRoiName(seg.manifest, 'Lung_R').value;
const rows = [];
for (const c of await loadRealCases(values.case as RealCaseName[])) {
  const out = await seg.segment(c.volume);
  const gt = sideVolumesMl(c.labels, c.volume.spacing);
  rows.push({ case: c.name, diceL: dice(out.data, c.labels, L, 1), diceR: dice(out.data, c.labels, R, 2), gtMl: gt });
}
await seg.release();
if (values.json) process.stdout.write(JSON.stringify(rows) + '\n');
else for (const r of rows) process.stdout.write(`${r.case}: Dice L ${r.diceL.toFixed(4)} R ${r.diceR.toFixed(4)} (truth ${r.gtMl.left.toFixed(0)} / ${r.gtMl.right.toFixed(0)} mL)\n`);
