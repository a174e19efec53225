import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isDfaError } from '../core/errors.ts';
import { labelByRoiName, labelByValue, loadManifest, manifestBaseSchema, parseManifest } from './manifest.ts';
import { CLASSICAL_LUNG_MANIFEST_PATH, classicalManifestSchema, lungLabelValues, shippedClassicalManifest } from './classical/manifest.ts';

const valid = () => ({
  name: 'm',
  version: '1',
  kind: 'onnx',
  modality: 'CT',
  bodyPart: 'CHEST',
  labels: [
    { value: 1, roiName: 'Lung_L', color: [1, 2, 3], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: { scheme: 'SCT', code: '123037004', meaning: 'Anatomical Structure' } },
  ],
});

test('shipped classical manifest: TG-263 names, SNOMED CT codes, laterality', () => {
  const m = shippedClassicalManifest();
  assert.equal(m.kind, 'classical');
  const l = labelByRoiName(m, 'Lung_L');
  const r = labelByRoiName(m, 'Lung_R');
  assert.deepEqual([l.concept.scheme, l.concept.code], ['SCT', '44029006']);
  assert.deepEqual([r.concept.scheme, r.concept.code], ['SCT', '3341006']);
  for (const x of [l, r]) assert.deepEqual([x.category.scheme, x.category.code], ['SCT', '123037004']);
  const v = lungLabelValues(m);
  assert.equal(labelByValue(m, v.left).roiName, 'Lung_L');
  assert.equal(labelByValue(m, v.right).roiName, 'Lung_R');
  assert.ok(m.params.lungHu < m.params.bodyHu + 1000);
});

test('loadManifest reads the shipped file with the base schema too, keeping extra keys', async () => {
  const m = (await loadManifest(CLASSICAL_LUNG_MANIFEST_PATH)) as unknown as Record<string, unknown>;
  assert.equal(m.name, 'classical-lung');
  assert.ok(typeof m.params === 'object', 'unknown keys survive the base schema');
});

test('invalid manifests are MODEL_INVALID faults naming the problem', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...valid(), labels: [] }, /labels/],
    [{ ...valid(), kind: 'magic' }, /kind/],
    [{ ...valid(), labels: [{ ...valid().labels[0], value: 0 }] }, /labels\.0\.value/],
    [{ ...valid(), labels: [valid().labels[0], valid().labels[0]] }, /duplicate label value 1/],
    [{ ...valid(), labels: [{ ...valid().labels[0], color: [0, 0] }] }, /color/],
    ['not an object', /root|expected object/i],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => parseManifest(json, 'x.json'),
      (e) => isDfaError(e, 'MODEL_INVALID') && re.test(e.message) && e.message.includes('x.json'),
      JSON.stringify(json),
    );
  }
});

test('a model family extends the base schema (as src/ml/onnx does)', () => {
  const onnxLike = manifestBaseSchema.extend({ input: z.object({ spacing: z.tuple([z.number(), z.number(), z.number()]) }) });
  const m = parseManifest({ ...valid(), input: { spacing: [1, 1, 2] } }, 'onnx.json', onnxLike);
  assert.deepEqual(m.input.spacing, [1, 1, 2]);
  assert.throws(() => parseManifest(valid(), 'onnx.json', onnxLike), (e) => isDfaError(e, 'MODEL_INVALID') && /input/.test(e.message));
});

test('classical schema needs one left and one right label', () => {
  const m = shippedClassicalManifest();
  const bad = { ...m, labels: m.labels.map((l) => ({ ...l, laterality: 'left' })) };
  const parsed = parseManifest(bad, 'bad.json', classicalManifestSchema);
  assert.throws(() => lungLabelValues(parsed), (e) => isDfaError(e, 'MODEL_INVALID'));
});

test('unreadable and non-JSON files are MODEL_INVALID', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-manifest-'));
  try {
    await writeFile(join(dir, 'm.json'), '{ nope');
    await assert.rejects(loadManifest(join(dir, 'm.json')), (e) => isDfaError(e, 'MODEL_INVALID') && /not JSON/.test(e.message));
    await assert.rejects(loadManifest(join(dir, 'missing.json')), (e) => isDfaError(e, 'MODEL_INVALID'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
