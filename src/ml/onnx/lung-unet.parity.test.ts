/**
 * Export parity: the shipped ONNX file must give what the training framework gives. The committed
 * PyTorch state dict (models/lung-unet/lung-unet.pt) is run by PyTorch (Debian's /usr/bin/python3)
 * and the committed lung-unet.onnx by onnxruntime-node, on the same preprocessed slices.
 * Tolerance: max |Δ softmax| ≤ 1e-4 and identical argmax wherever the top-two margin > 1e-3.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { synthChest } from '../../../ml/train/synth-chest.ts';
import { loadOnnxManifest } from './manifest.ts';
import { modelGrid, resampleLinear } from './model-grid.ts';
import { normalizeInPlace } from './preprocess.ts';
import { PYTHON } from '../../../test/support/threshold-onnx.ts';

const MODEL_DIR = fileURLToPath(new URL('../../../models/lung-unet/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../../ml/train/torch_infer.py', import.meta.url));

test('lung-unet.onnx reproduces the PyTorch weights on real-sized slices (max |Δp| ≤ 1e-4)', async (t) => {
  const { manifest, modelPath } = await loadOnnxManifest(join(MODEL_DIR, 'manifest.json'));
  // Wider than the training patch: also proves the exported height/width axes are dynamic
  // (the runtime feeds whole slices, manifest wholeSlice).
  const w = manifest.onnx.patchSize[0] + manifest.onnx.sizeMultiple;
  const h = manifest.onnx.patchSize[1];
  // Four slices through a synthetic chest (a seed not used in training), preprocessed as at inference.
  const { volume } = synthChest(987654321);
  const grid = modelGrid(volume, manifest.onnx.spacing);
  const img = normalizeInPlace(resampleLinear(volume.data, volume, grid, manifest.onnx.fillValue), manifest.onnx.preprocessing);
  const [nx, ny, nz] = grid.dims;
  const n = 4;
  const input = new Float32Array(n * w * h);
  for (let s = 0; s < n; s++) {
    const k = Math.floor(((s + 1) * nz) / (n + 1));
    for (let j = 0; j < Math.min(h, ny); j++) for (let i = 0; i < Math.min(w, nx); i++) input[s * w * h + i + j * w] = img[i + j * nx + k * nx * ny];
  }

  const dir = await mkdtemp(join(tmpdir(), 'dfa-parity-'));
  try {
    await writeFile(join(dir, 'in.f32'), new Uint8Array(input.buffer));
    execFileSync(PYTHON, [SCRIPT, join(MODEL_DIR, 'lung-unet.pt'), join(dir, 'in.f32'), String(n), String(h), String(w), join(dir, 'out.f32')], { stdio: 'pipe' });
    const buf = await readFile(join(dir, 'out.f32'));
    const torchOut = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);

    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
    try {
      const res = await session.run({ [manifest.onnx.inputName ?? 'image']: new ort.Tensor('float32', input, [n, 1, h, w]) });
      const onnxOut = res[manifest.onnx.outputName ?? 'probabilities'].data as Float32Array;
      assert.equal(onnxOut.length, torchOut.length);
      const C = manifest.onnx.output.channelLabels.length;
      assert.equal(onnxOut.length, n * C * w * h);
      let maxDiff = 0;
      let lung = 0;
      for (let i = 0; i < onnxOut.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxOut[i] - torchOut[i]));
      const px = w * h;
      for (let s = 0; s < n; s++) {
        for (let p = 0; p < px; p++) {
          const at = (c: number, arr: Float32Array) => arr[s * C * px + c * px + p];
          const order = [...Array(C).keys()].sort((a, b) => at(b, torchOut) - at(a, torchOut));
          if (order[0] !== 0) lung++;
          if (at(order[0], torchOut) - at(order[1], torchOut) <= 1e-3) continue;
          const best = [...Array(C).keys()].reduce((a, b) => (at(b, onnxOut) > at(a, onnxOut) ? b : a), 0);
          assert.equal(best, order[0], `slice ${s} pixel ${p}`);
        }
      }
      t.diagnostic(`max |Δ softmax| ${maxDiff.toExponential(2)} over ${onnxOut.length} values; ${lung} lung pixels`);
      assert.ok(maxDiff <= 1e-4, `max |Δ softmax| = ${maxDiff}`);
      // The sample must exercise the lungs, or the comparison proves little.
      assert.ok(lung > 500, `only ${lung} lung pixels in the sample`);
    } finally {
      await session.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
