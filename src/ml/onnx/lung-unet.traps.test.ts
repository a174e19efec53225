/**
 * The shipped lung U-Net on air that is not lung and on pathology that is: synthetic volumes from
 * its own training generator (ml/train/synth-chest.ts) with seeds it never saw (training used
 * 100000–100099), each finding forced on. Not an independent phantom: the project phantom's trap
 * and pathology scenarios (src/dicom/phantom) are the independent check once they are on main.
 *
 * Gates (issue 9): < 5 mL of lung labelled in the gas pockets (stomach, bowel, free air); the
 * no-lung abdomen slab gets < 5 mL of lung in all; Dice ≥ 0.95 per lung on chests with pathology
 * that stays inside the lung contour and with an effusion that stays outside it; sides never swapped.
 *
 * Only "sides never swapped" is met by the shipped v1.0.0 and is tested here. The others are NOT met
 * (nor by this session's retrained candidate, a short CPU fine-tune; see ml/train/README.md):
 * gastric bubble 49 mL in gas, no-lung slab 251 / 45 mL, consolidation L 0.742. They are measured by
 * `npm run bench:ml` and stay open in issue 9 — no skipped or todo tests stand in for them. The U-Net
 * is therefore not the default segmenter, only the fallback (QC judges its output like any other).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { synthChest } from '../../../ml/train/synth-chest.ts';
import type { Finding, Scenario } from '../../../ml/train/synth-extras.ts';
import { dice } from '../metrics.ts';
import { labelByRoiName } from '../manifest.ts';
import { createOnnxSegmenter } from './onnx-segmenter.ts';

const MANIFEST = fileURLToPath(new URL('../../../models/lung-unet/manifest.json', import.meta.url));
const seg = await createOnnxSegmenter(MANIFEST, { intraOpNumThreads: 1 });
after(async () => {
  await seg.release();
});
const L = labelByRoiName(seg.manifest, 'Lung_L').value;
const R = labelByRoiName(seg.manifest, 'Lung_R').value;

interface Case {
  readonly name: string;
  readonly seed: number;
  readonly scenario: Scenario;
  readonly force: readonly Finding[];
}

const memo = new Map<number, ReturnType<typeof runOnce>>();
/** Each case is segmented once and shared by the tests below. */
async function run(c: Case): ReturnType<typeof runOnce> {
  if (!memo.has(c.seed)) memo.set(c.seed, runOnce(c));
  return memo.get(c.seed)!;
}

async function runOnce(c: Case): Promise<{ diceL: number; diceR: number; swapped: number; gasFpMl: number; lungMl: number; truthMl: number }> {
  const s = synthChest(c.seed, { scenario: c.scenario, force: c.force });
  const out = await seg.segment(s.volume);
  const ml = (s.volume.spacing[0] * s.volume.spacing[1] * s.volume.spacing[2]) / 1000;
  let gasFp = 0;
  let lung = 0;
  let truth = 0;
  for (let v = 0; v < out.data.length; v++) {
    const p = out.data[v] === L || out.data[v] === R;
    if (p) lung++;
    if (p && s.gas[v]) gasFp++;
    if (s.labels[v]) truth++;
  }
  return {
    diceL: dice(out.data, s.labels, L, 1),
    diceR: dice(out.data, s.labels, R, 2),
    swapped: Math.max(dice(out.data, s.labels, L, 2), dice(out.data, s.labels, R, 1)),
    gasFpMl: gasFp * ml,
    lungMl: lung * ml,
    truthMl: truth * ml,
  };
}

const TRAPS: Case[] = [
  { name: 'chest, large gastric bubble under the left hemidiaphragm', seed: 9_000_001, scenario: 'chest', force: ['gastric'] },
  { name: 'chest, free air under the diaphragm', seed: 9_000_002, scenario: 'chest', force: ['freeAir', 'colon'] },
  { name: 'abdomen slab with the lung bases, colon and stomach gas', seed: 9_000_003, scenario: 'abdomen-bases', force: ['gastric', 'colon'] },
  { name: 'abdomen slab with the lung bases, free air', seed: 9_000_004, scenario: 'abdomen-bases', force: ['freeAir', 'colon'] },
];



const PATHOLOGY: Case[] = [
  { name: 'dense lower-lobe consolidation with air bronchograms', seed: 9_000_021, scenario: 'chest', force: ['consolidation'] },
  { name: 'tumour abutting the pleura', seed: 9_000_022, scenario: 'chest', force: ['tumour'] },
  { name: 'ground glass', seed: 9_000_023, scenario: 'chest', force: ['ggo'] },
  { name: 'emphysema bullae', seed: 9_000_024, scenario: 'chest', force: ['bullae'] },
  { name: 'pleural effusion (not lung)', seed: 9_000_025, scenario: 'chest', force: ['effusion'] },
];


test('sides never swapped on any trap or pathology case (left lung labelled right or vice versa: Dice < 0.05)', async () => {
  const failed: string[] = [];
  for (const c of [...TRAPS, ...PATHOLOGY]) {
    const r = await run(c);
    if (r.swapped >= 0.05) failed.push(`${c.name}: ${r.swapped.toFixed(3)}`);
  }
  assert.deepEqual(failed, []);
});
