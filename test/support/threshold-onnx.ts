/**
 * Test helpers: tiny hand-made ONNX graphs (built with the `onnx` Python package's helper API via
 * Debian's /usr/bin/python3) whose output is known exactly, so the runtime's geometry can be
 * checked voxel for voxel. Not used in production code.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Debian's python with torch + onnx (the pyenv python3 on PATH has neither). */
export const PYTHON = process.env.DFA_PYTHON ?? '/usr/bin/python3';

const THRESHOLD_GRAPH = `
import sys, onnx
from onnx import helper, TensorProto
path, rank = sys.argv[1], int(sys.argv[2])
shape = ['N', 1] + [None] * (rank - 2)
x = helper.make_tensor_value_info('image', TensorProto.FLOAT, shape)
y = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', 2] + [None] * (rank - 2))
half = helper.make_tensor('half', TensorProto.FLOAT, [], [0.5])
nodes = [
    helper.make_node('Sub', ['half', 'image'], ['bg']),   # background logit: 0.5 - x
    helper.make_node('Sub', ['image', 'half'], ['fg']),   # foreground logit: x - 0.5
    helper.make_node('Concat', ['bg', 'fg'], ['logits'], axis=1),
]
g = helper.make_graph(nodes, 'threshold', [x], [y], [half])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, path)
`;

/**
 * Writes threshold.onnx: input 'image' (N,1,…) → output 'logits' (N,2,…) = [0.5 − x, x − 0.5],
 * i.e. after softmax, class 1 exactly where the preprocessed input exceeds 0.5.
 */
export function writeThresholdOnnx(dir: string, layout: '2d' | '3d'): string {
  const path = join(dir, `threshold-${layout}.onnx`);
  execFileSync(PYTHON, ['-c', THRESHOLD_GRAPH, path, layout === '2d' ? '4' : '5'], { stdio: 'pipe' });
  return path;
}

/** A manifest for the threshold model; `onnx` fields override the defaults. */
export async function writeThresholdManifest(dir: string, layout: '2d' | '3d', onnx: Record<string, unknown> = {}): Promise<string> {
  const file = writeThresholdOnnx(dir, layout);
  const manifest = {
    name: 'threshold',
    version: '0',
    kind: 'onnx',
    modality: 'CT',
    bodyPart: 'CHEST',
    labels: [
      {
        value: 1,
        roiName: 'Bright',
        color: [255, 0, 0],
        concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' },
        category: { scheme: 'SCT', code: '123037004', meaning: 'Anatomical Structure' },
      },
    ],
    onnx: {
      file,
      inputName: 'image',
      outputName: 'logits',
      layout,
      spacing: layout === '2d' ? [1, 1, null] : [1, 1, 1],
      patchSize: layout === '2d' ? [8, 8] : [8, 8, 4],
      overlap: 0.5,
      blending: 'gaussian',
      batchSize: 3,
      // HU 0 → 0, HU 100 → 1: the model labels voxels brighter than HU 50.
      preprocessing: { type: 'window', min: 0, max: 100, outMin: 0, outMax: 1 },
      fillValue: 0,
      output: { activation: 'softmax', channelLabels: [0, 1] },
      ...onnx,
    },
  };
  const path = join(dir, `threshold-${layout}.json`);
  await writeFile(path, JSON.stringify(manifest));
  return path;
}
