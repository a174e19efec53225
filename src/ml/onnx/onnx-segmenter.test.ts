import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isDfaError } from '../../core/errors.ts';
import { indexToPatient, type Vec3, type Volume } from '../../core/volume.ts';
import { createOnnxSegmenter } from './onnx-segmenter.ts';
import { writeThresholdManifest } from '../../../test/support/threshold-onnx.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-onnx-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function volume(dims: Vec3, spacing: Vec3, origin: Vec3, direction: readonly [Vec3, Vec3, Vec3], hu: (p: [number, number, number]) => number): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, o = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, o++) data[o] = hu(indexToPatient({ dims, spacing, origin, direction }, i, j, k));
  return {
    dims,
    spacing,
    origin,
    direction,
    data,
    meta: { studyInstanceUid: '1', seriesInstanceUid: '2', frameOfReferenceUid: '3', modality: 'CT', patientId: 'P', patientName: 'T', slices: [] },
  };
}
// A bright ball (HU 100) off centre in soft tissue (HU 0).
const ball = (p: [number, number, number]) => ((p[0] - 3) ** 2 + (p[1] + 2) ** 2 + (p[2] - 1) ** 2 <= 36 ? 100 : 0);
const truth = (v: Volume) => Uint8Array.from(v.data, (x) => (x > 50 ? 1 : 0));
const FLIPPED: readonly [Vec3, Vec3, Vec3] = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]];
const AXIAL: readonly [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

test('2D slice-wise: a flipped volume at the model spacing comes back voxel-exact on its own grid', async () => {
  const seg = await createOnnxSegmenter(await writeThresholdManifest(dir, '2d'), { intraOpNumThreads: 1 });
  try {
    const v = volume([21, 17, 9], [1, 1, 2], [12, 8, 9], FLIPPED, ball);
    const out = await seg.segment(v);
    assert.deepEqual([out.dims, out.spacing, out.origin, out.direction], [v.dims, v.spacing, v.origin, v.direction]);
    const want = truth(v);
    assert.ok(want.some((x) => x === 1));
    assert.deepEqual(out.data, want);
    assert.equal(seg.manifest.labels[0].roiName, 'Bright');
  } finally {
    await seg.release();
  }
});

test('2D whole-slice mode (dynamic height/width, slice padded to a multiple of 8) is voxel-exact', async () => {
  const seg = await createOnnxSegmenter(await writeThresholdManifest(dir, '2d', { wholeSlice: true, sizeMultiple: 8 }), { intraOpNumThreads: 1 });
  try {
    const v = volume([21, 17, 9], [1, 1, 2], [12, 8, 9], FLIPPED, ball);
    assert.deepEqual((await seg.segment(v)).data, truth(v));
  } finally {
    await seg.release();
  }
});

test('3D sliding window (patch smaller than the volume, 50% overlap, Gaussian) is voxel-exact', async () => {
  const seg = await createOnnxSegmenter(await writeThresholdManifest(dir, '3d'), { intraOpNumThreads: 1 });
  try {
    const v = volume([23, 19, 13], [1, 1, 1], [-8, -10, -5], AXIAL, ball);
    const out = await seg.segment(v);
    assert.deepEqual(out.data, truth(v));
  } finally {
    await seg.release();
  }
});

test('resampling to a coarser model grid and back keeps the shape (Dice ≥ 0.9) on an oblique volume', async () => {
  const seg = await createOnnxSegmenter(await writeThresholdManifest(dir, '3d', { spacing: [1.6, 1.6, 1.6], postprocessing: { largestComponentPerLabel: true } }), { intraOpNumThreads: 1 });
  try {
    const c = Math.cos(0.4);
    const s = Math.sin(0.4);
    const oblique: readonly [Vec3, Vec3, Vec3] = [[c, s, 0], [-s, c, 0], [0, 0, 1]];
    const v = volume([32, 32, 24], [0.7, 0.7, 0.9], [-8, -10, -10], oblique, ball);
    const out = await seg.segment(v);
    const want = truth(v);
    let inter = 0;
    let sum = 0;
    for (let i = 0; i < want.length; i++) {
      inter += want[i] & out.data[i];
      sum += want[i] + out.data[i];
    }
    assert.ok((2 * inter) / sum >= 0.9, `Dice ${(2 * inter) / sum}`);
  } finally {
    await seg.release();
  }
});

test('sigmoid output: labels above the threshold only', async () => {
  // The threshold graph's channel 1 logit is x − 0.5; with sigmoid > 0.5 that is again x > 0.5.
  const seg = await createOnnxSegmenter(await writeThresholdManifest(dir, '2d', { output: { activation: 'sigmoid', channelLabels: [0, 1] } }));
  try {
    const v = volume([12, 12, 3], [1, 1, 1], [-2, -6, -1], AXIAL, ball);
    assert.deepEqual((await seg.segment(v)).data, truth(v));
  } finally {
    await seg.release();
  }
});

test('a bad manifest, a missing file or a wrong sha256 is MODEL_INVALID; an abort stops the run', async () => {
  const good = JSON.parse(await readFile(await writeThresholdManifest(dir, '2d'), 'utf8')) as { onnx: Record<string, unknown> };
  const write = async (name: string, m: unknown) => {
    const p = join(dir, name);
    await writeFile(p, JSON.stringify(m));
    return p;
  };
  await assert.rejects(createOnnxSegmenter(await write('bad1.json', { ...good, onnx: { ...good.onnx, patchSize: [8, 8, 8] } })), (e) => isDfaError(e, 'MODEL_INVALID'));
  await assert.rejects(createOnnxSegmenter(await write('bad2.json', { ...good, onnx: { ...good.onnx, output: { activation: 'softmax', channelLabels: [0, 7] } } })), (e) => isDfaError(e, 'MODEL_INVALID'));
  await assert.rejects(createOnnxSegmenter(await write('bad3.json', { ...good, onnx: { ...good.onnx, file: 'nope.onnx' } })), (e) => isDfaError(e, 'MODEL_INVALID'));
  await assert.rejects(createOnnxSegmenter(await write('bad4.json', { ...good, onnx: { ...good.onnx, sha256: '0'.repeat(64) } })), (e) => isDfaError(e, 'MODEL_INVALID'));
  await assert.rejects(createOnnxSegmenter(await write('bad5.json', { ...good, onnx: { ...good.onnx, inputName: 'x' } })), (e) => isDfaError(e, 'MODEL_INVALID'));
  const sha = createHash('sha256').update(await readFile(good.onnx.file as string)).digest('hex');
  const seg = await createOnnxSegmenter(await write('ok.json', { ...good, onnx: { ...good.onnx, sha256: sha } }));
  try {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(seg.segment(volume([8, 8, 2], [1, 1, 1], [0, 0, 0], AXIAL, ball), { signal: ac.signal }), (e: Error) => e.name === 'AbortError');
  } finally {
    await seg.release();
  }
});
