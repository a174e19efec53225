import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { exitCodeFor, isDfaError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { loadModelRegistry, modelDirOf } from '../../ml/registry.ts';
import { createSegmenter } from '../segmenters.ts';
import { planGoal } from './index.ts';

/**
 * Plans against the REAL models/ folder (no fixture capabilities), and the job's loader loads
 * exactly the model the plan names. The shipped U-Net's manifest name (lung-unet-2d) differs from
 * its folder (models/lung-unet): a lookup by folder name would fail here.
 */
const log = createLogger({ level: 'error' });
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const plan = (goal: string, env: Record<string, string> = {}) => planGoal(goal, loadConfig(env), { planner: 'rules' });

async function loads(name: string, env: Record<string, string> = {}): Promise<{ name: string; version: string }> {
  const s = await createSegmenter(name, loadConfig(env), log);
  try {
    return { name: s.manifest.name, version: s.manifest.version };
  } finally {
    await (s as { release?: () => Promise<void> }).release?.call(s);
  }
}

test('registry: the shipped models are known by manifest name, not folder', async () => {
  const reg = await loadModelRegistry(modelDirOf(loadConfig({})));
  assert.deepEqual(reg.problems, []);
  assert.deepEqual(reg.models.map((m) => `${m.manifest.name}@${m.manifest.version}:${m.manifest.kind}`), ['classical-lung@1.0.0:classical', 'lung-unet-2d@1.0.0:onnx']);
  assert.match(reg.models[1].manifestPath, /models\/lung-unet\/manifest\.json$/);
});

test('each shipped model, named by DFA_SEGMENTER: planned and loaded as exactly that model; the other is its fallback', async () => {
  const reg = await loadModelRegistry(modelDirOf(loadConfig({})));
  for (const { manifest } of reg.models) {
    for (const ref of [manifest.name, `${manifest.name}@${manifest.version}`]) {
      const p = await plan(GOAL, { DFA_SEGMENTER: ref });
      assert.equal(p.pipeline.segmenter, manifest.name, ref);
      assert.equal(p.pipeline.segmenterNamed, false, 'a configured default is the system choice');
      assert.deepEqual(await loads(p.pipeline.segmenter), { name: manifest.name, version: manifest.version });
      const other = reg.models.find((m) => m.manifest !== manifest)!.manifest.name;
      assert.equal(p.pipeline.fallbackSegmenter, other);
      assert.equal((await loads(p.pipeline.fallbackSegmenter!)).name, other);
    }
  }
});

test('"using the U-Net" / "classical" phrasings plan and load the named model, with no automatic fallback', async () => {
  const cases: [string, string][] = [
    ['analyse pending CT scans for lung segmentation using the U-Net', 'lung-unet-2d'],
    ['segment lungs with the ONNX model on queued CT', 'lung-unet-2d'],
    ['contour lungs on pending CT with the classical method', 'classical-lung'],
    ['segment the lungs on new CTs with thresholding', 'classical-lung'],
  ];
  for (const [goal, model] of cases) {
    const p = await plan(goal, { DFA_FALLBACK_SEGMENTER: 'classical' });
    assert.equal(p.pipeline.segmenter, model, goal);
    assert.equal(p.pipeline.segmenterNamed, true, goal);
    assert.equal(p.pipeline.fallbackSegmenter, undefined, `${goal}: no silent fallback`);
    assert.ok(p.understood.some((u) => /named by the goal: no automatic fallback/.test(u)), goal);
    assert.equal((await loads(p.pipeline.segmenter)).name, model);
  }
  const auto = await plan(GOAL);
  assert.equal(auto.pipeline.segmenterNamed, false);
  assert.equal(auto.pipeline.segmenter, 'classical-lung');
  assert.equal(auto.pipeline.fallbackSegmenter, 'lung-unet-2d');
});

test('a model that is referenced but not installed is refused when the plan is made (exit 2)', async () => {
  const refused = async (p: Promise<unknown>, name: string) =>
    assert.rejects(p, (e) => isDfaError(e, 'MODEL_NOT_INSTALLED') && exitCodeFor(e) === 2 && e.message.includes(`'${name}'`) && /installed: classical-lung 1\.0\.0/.test(e.message));
  await refused(plan(GOAL, { DFA_SEGMENTER: 'lung-unet' }), 'lung-unet'); // the folder is not the name
  await refused(plan(GOAL, { DFA_SEGMENTER: 'lung-unet-2d@9.9.9' }), 'lung-unet-2d@9.9.9');
  await refused(plan(GOAL, { DFA_FALLBACK_SEGMENTER: 'nnunet' }), 'nnunet');
  await assert.rejects(loads('lung-unet'), (e) => isDfaError(e, 'MODEL_NOT_INSTALLED'));

  // An installation with only the classical model: a U-Net goal is refused, not run classically.
  const dir = await mkdtemp(join(tmpdir(), 'dfa-models-'));
  try {
    await cp(join(modelDirOf(loadConfig({})), 'classical-lung'), join(dir, 'elsewhere'), { recursive: true });
    await refused(plan('segment lungs with the U-Net on pending CT', { DFA_MODEL_DIR: dir }), 'onnx');
    const p = await plan(GOAL, { DFA_MODEL_DIR: dir });
    assert.equal(p.pipeline.segmenter, 'classical-lung');
    assert.equal(p.pipeline.fallbackSegmenter, undefined);
    assert.equal((await loads('classical', { DFA_MODEL_DIR: dir })).name, 'classical-lung');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
