/**
 * Any ONNX lung model on the traps and pathology (issue 9), one row per case: Dice per lung in view,
 * lung labelled inside gas pockets / an effusion (mL), lung labelled in all (mL; < 5 mL in all is
 * "no lung in the field of view", the job is skipped).
 * - synthetic: the training generator (synth-chest.ts) with seeds no training set uses (9,000,001+),
 *   each finding forced on — the cases of lung-unet.traps.test.ts and `npm run bench:ml`;
 * - project phantom: every named scenario of src/dicom/phantom (another generator, never trained on).
 *
 *   npx node ml/train/eval-traps.ts [--manifest models/lung-unet/manifest.json] [--json]
 */
import { parseArgs } from 'node:util';
import { PHANTOM_SCENARIOS } from '../../src/dicom/phantom/scenarios.ts';
import { generateChestPhantom } from '../../src/dicom/phantom/generate.ts';
import { dice } from '../../src/ml/metrics.ts';
import { labelByRoiName } from '../../src/ml/manifest.ts';
import { createOnnxSegmenter } from '../../src/ml/onnx/onnx-segmenter.ts';
import { synthChest } from './synth-chest.ts';
import { SYNTH_TRAPS } from './synth-traps.ts';

const { values } = parseArgs({
  options: {
    manifest: { type: 'string', default: new URL('../../models/lung-unet/manifest.json', import.meta.url).pathname },
    json: { type: 'boolean', default: false },
  },
});

const seg = await createOnnxSegmenter(values.manifest, { intraOpNumThreads: 1 });
const L = labelByRoiName(seg.manifest, 'Lung_L').value;
const R = labelByRoiName(seg.manifest, 'Lung_R').value;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Row {
  readonly source: 'synth' | 'phantom';
  readonly name: string;
  readonly diceL?: number;
  readonly diceR?: number;
  readonly gasMl: number;
  readonly effusionMl?: number;
  readonly labelledMl: number;
}
const rows: Row[] = [];

/** mL of voxels labelled lung (either side) where `mask` is set (all voxels when undefined). */
function mlIn(out: Uint8Array, mask: Uint8Array | undefined, mm3: number): number {
  let n = 0;
  for (let v = 0; v < out.length; v++) if ((out[v] === L || out[v] === R) && (mask === undefined || mask[v] !== 0)) n++;
  return (n * mm3) / 1000;
}

for (const t of SYNTH_TRAPS) {
  const s = synthChest(t.seed, { scenario: t.scenario, force: t.force });
  const out = (await seg.segment(s.volume)).data;
  const mm3 = s.volume.spacing[0] * s.volume.spacing[1] * s.volume.spacing[2];
  const lungs = t.scenario !== 'abdomen-no-lung';
  rows.push({
    source: 'synth',
    name: t.name,
    ...(lungs ? { diceL: r3(dice(out, s.labels, L, 1)), diceR: r3(dice(out, s.labels, R, 2)) } : {}),
    gasMl: r1(mlIn(out, s.gas, mm3)),
    labelledMl: r1(mlIn(out, undefined, mm3)),
  });
}
for (const sc of PHANTOM_SCENARIOS) {
  const p = generateChestPhantom(sc.options);
  const out = (await seg.segment(p.volume)).data;
  const mm3 = p.volume.spacing[0] * p.volume.spacing[1] * p.volume.spacing[2];
  const truth = p.truth as Record<string, Uint8Array | undefined>;
  rows.push({
    source: 'phantom',
    name: sc.name,
    ...(sc.lungs.includes('Lung_L') ? { diceL: r3(dice(out, truth.Lung_L ?? new Uint8Array(0), L, 1)) } : {}),
    ...(sc.lungs.includes('Lung_R') ? { diceR: r3(dice(out, truth.Lung_R ?? new Uint8Array(0), R, 1)) } : {}),
    gasMl: r1(truth.GasPockets ? mlIn(out, truth.GasPockets, mm3) : 0),
    ...(truth.Effusion ? { effusionMl: r1(mlIn(out, truth.Effusion, mm3)) } : {}),
    labelledMl: r1(mlIn(out, undefined, mm3)),
  });
}
await seg.release();
if (values.json) process.stdout.write(JSON.stringify(rows) + '\n');
else {
  const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3));
  process.stdout.write(`${seg.manifest.name} ${seg.manifest.version} (${values.manifest})\n| source | case | Dice L | Dice R | lung in gas (mL) | in effusion (mL) | labelled (mL) |\n|---|---|---:|---:|---:|---:|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.source} | ${r.name} | ${f(r.diceL)} | ${f(r.diceR)} | ${r.gasMl} | ${r.effusionMl ?? ''} | ${r.labelledMl} |\n`);
}
