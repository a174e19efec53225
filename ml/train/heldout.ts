/**
 * Leave-one-out table: each LOO model (trained without one real case) on the case it never saw,
 * and the previous model ("before") on the same cases. Writes ml/train/heldout.json, which
 * `npm run bench:ml` prints.
 *
 *   npx node ml/train/heldout.ts --before /tmp/v1/manifest.json \
 *     --loo cip64=/tmp/h4/loo-cip64/manifest.json --loo imlab-id001=... --loo imlab-id002=... --note "..."
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { dice } from '../../src/ml/metrics.ts';
import { labelByRoiName } from '../../src/ml/manifest.ts';
import { createOnnxSegmenter } from '../../src/ml/onnx/onnx-segmenter.ts';
import { loadRealCase, REAL_CASES, type RealCaseName } from './real-cases.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    loo: { type: 'string', multiple: true, default: [] },
    note: { type: 'string', default: '' },
    out: { type: 'string', default: new URL('heldout.json', import.meta.url).pathname },
  },
});

async function score(manifest: string, name: RealCaseName): Promise<{ diceL: number; diceR: number }> {
  const seg = await createOnnxSegmenter(manifest, { intraOpNumThreads: 1 });
  const c = await loadRealCase(name);
  const out = await seg.segment(c.volume);
  await seg.release();
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { diceL: r4(dice(out.data, c.labels, labelByRoiName(seg.manifest, 'Lung_L').value, 1)), diceR: r4(dice(out.data, c.labels, labelByRoiName(seg.manifest, 'Lung_R').value, 2)) };
}

const before: Record<string, { diceL: number; diceR: number }> = {};
const after: Record<string, { diceL: number; diceR: number }> = {};
for (const spec of values.loo) {
  const [name, manifest] = spec.split('=');
  if (!(REAL_CASES as readonly string[]).includes(name)) throw new Error(`--loo ${spec}: unknown case`);
  after[name] = await score(manifest, name as RealCaseName);
  if (values.before !== undefined) before[name] = await score(values.before, name as RealCaseName);
  process.stdout.write(`${name}: before ${JSON.stringify(before[name])} after ${JSON.stringify(after[name])}\n`);
}
await writeFile(values.out, JSON.stringify({ note: values.note, before, after }, null, 1) + '\n');
