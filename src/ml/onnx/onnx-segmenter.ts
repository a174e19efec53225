/**
 * Segmenter that runs any segmentation model exported to ONNX, as its manifest describes it:
 * volume → model grid (axis-aligned LPS, model spacing; trilinear) → intensity preprocessing →
 * slice-wise 2D or sliding-window 3D inference (onnxruntime-node, CPU) → activation → argmax →
 * optional largest component per label → labels back on the volume's grid (nearest).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { DfaError, toDfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Segmenter } from '../../core/ports.ts';
import type { LabelMap, Vec3, Volume, VolumeGeometry } from '../../core/volume.ts';
import { baseManifest, loadOnnxManifest, type OnnxManifest } from './manifest.ts';
import { modelGrid, resampleLinear, resampleNearest } from './model-grid.ts';
import { activateInPlace, keepLargestComponentPerLabel, labelsFromProbs } from './postprocess.ts';
import { intensityFn, normalizeInPlace } from './preprocess.ts';
import { slidingWindow } from './sliding-window.ts';

export interface OnnxSegmenterOptions {
  /** onnxruntime intra-op threads (default: the runtime's choice, i.e. all cores). */
  readonly intraOpNumThreads?: number;
  /** Patches per session.run; overrides the manifest's batchSize. */
  readonly batchSize?: number;
  readonly logger?: Logger;
}

export interface OnnxSegmenter extends Segmenter {
  readonly onnxManifest: OnnxManifest;
  /** Label map on the model grid itself, before resampling back to the volume. */
  segmentOnModelGrid(volume: Volume, opts?: { signal?: AbortSignal }): Promise<{ grid: VolumeGeometry; labels: Uint8Array }>;
  /** Free the native session. */
  release(): Promise<void>;
}

export async function createOnnxSegmenter(manifestPath: string, opts: OnnxSegmenterOptions = {}): Promise<OnnxSegmenter> {
  const { manifest, modelPath } = await loadOnnxManifest(manifestPath);
  const spec = manifest.onnx;
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `cannot read ONNX model ${modelPath}`, { cause: e, details: { modelPath } });
  }
  if (spec.sha256 !== undefined) {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== spec.sha256) {
      throw new DfaError('MODEL_INVALID', `ONNX model ${modelPath} does not match the manifest's sha256`, { details: { modelPath, expected: spec.sha256, got } });
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      ...(opts.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: opts.intraOpNumThreads }),
    });
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `onnxruntime cannot load ${modelPath}`, { cause: e, details: { modelPath } });
  }
  const inputName = spec.inputName ?? session.inputNames[0];
  const outputName = spec.outputName ?? session.outputNames[0];
  if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
    await session.release();
    throw new DfaError('MODEL_INVALID', `ONNX model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; manifest wants ${inputName} → ${outputName}`, { details: { modelPath } });
  }

  const basePatch: Vec3 = spec.layout === '2d' ? [spec.patchSize[0], spec.patchSize[1], 1] : [spec.patchSize[0], spec.patchSize[1], spec.patchSize[2] ?? 1];
  /** Whole-slice mode: one window per slice, the slice padded up to a multiple of sizeMultiple. */
  const patchFor = (grid: VolumeGeometry): Vec3 => {
    if (!spec.wholeSlice) return basePatch;
    const up = (n: number, min: number) => Math.max(min, Math.ceil(n / spec.sizeMultiple) * spec.sizeMultiple);
    return [up(grid.dims[0], basePatch[0]), up(grid.dims[1], basePatch[1]), 1];
  };
  const channels = spec.output.channelLabels.length;
  const batchSize = opts.batchSize ?? spec.batchSize;
  const log = opts.logger?.child({ model: manifest.name, version: manifest.version });

  const run = async (input: Float32Array, n: number, patch: Vec3): Promise<Float32Array> => {
    const shape = spec.layout === '2d' ? [n, 1, patch[1], patch[0]] : [n, 1, patch[2], patch[1], patch[0]];
    const feeds = { [inputName]: new ort.Tensor('float32', input, shape) };
    const result = await session.run(feeds);
    const t = result[outputName];
    if (t.type !== 'float32') throw new DfaError('MODEL_INVALID', `model output ${outputName} is ${t.type}, expected float32`);
    // Copy: the output buffer belongs to the runtime and is freed with the tensor.
    const data = new Float32Array(t.data as Float32Array);
    t.dispose();
    return data;
  };

  const onGrid = async (volume: Volume, signal?: AbortSignal) => {
    const grid = modelGrid(volume, spec.spacing);
    const image = normalizeInPlace(resampleLinear(volume.data, volume, grid, spec.fillValue), spec.preprocessing);
    const n = grid.dims[0] * grid.dims[1] * grid.dims[2];
    const patch = patchFor(grid);
    const probs = await slidingWindow(image, async (input, count) => run(input, count, patch), {
      dims: grid.dims,
      patch,
      overlap: spec.overlap,
      blending: spec.blending,
      batchSize,
      channels,
      fill: intensityFn(spec.preprocessing)(spec.fillValue),
      ...(signal === undefined ? {} : { signal }),
    });
    activateInPlace(probs, channels, n, spec.output.activation);
    const labels = labelsFromProbs(probs, spec.output.channelLabels, n, spec.output.activation === 'sigmoid' ? 'sigmoid' : 'exclusive', spec.output.threshold);
    if (spec.postprocessing.largestComponentPerLabel) {
      keepLargestComponentPerLabel(labels, grid.dims, manifest.labels.map((l) => l.value));
    }
    return { grid, labels };
  };

  return {
    manifest: baseManifest(manifest),
    onnxManifest: manifest,
    async segmentOnModelGrid(volume, o) {
      return await onGrid(volume, o?.signal);
    },
    async segment(volume: Volume, o?: { signal?: AbortSignal }): Promise<LabelMap> {
      const t0 = performance.now();
      try {
        const { grid, labels } = await onGrid(volume, o?.signal);
        const data = resampleNearest(labels, grid, volume);
        log?.debug('onnx segmentation done', { ms: Math.round(performance.now() - t0), grid: grid.dims });
        return { dims: volume.dims, spacing: volume.spacing, origin: volume.origin, direction: volume.direction, data };
      } catch (e) {
        if (o?.signal?.aborted === true) throw e;
        const err = toDfaError(e, 'SEGMENTATION_FAILED');
        throw err.code === 'INTERNAL' ? new DfaError('SEGMENTATION_FAILED', err.message, { cause: e }) : err;
      }
    },
    async release() {
      await session.release();
    },
  };
}
