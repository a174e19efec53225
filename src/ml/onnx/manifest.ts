/**
 * The manifest of an ONNX segmentation model (MONAI-deploy style: the model declares its inputs,
 * preprocessing, outputs and labels; the runtime follows it and hard-codes nothing).
 *
 * Extends the shared base schema (src/ml/manifest.ts: name, version, labels...) with an `onnx`
 * section, so a loaded manifest is usable wherever a ModelManifest is.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DfaError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/model.ts';
import { manifestBaseSchema, parseManifest } from '../manifest.ts';

const positive = z.number().positive();

const preprocessing = z.discriminatedUnion('type', [
  // HU window: clip to [min, max] then scale linearly to [outMin, outMax].
  z.object({
    type: z.literal('window'),
    min: z.number(),
    max: z.number(),
    outMin: z.number().default(0),
    outMax: z.number().default(1),
  }),
  // z-score with fixed dataset statistics (nnU-Net CT style), optional clip before.
  z.object({
    type: z.literal('zscore'),
    mean: z.number(),
    std: positive,
    clipMin: z.number().optional(),
    clipMax: z.number().optional(),
  }),
]);

const onnxSection = z.object({
  /** ONNX file, relative to the manifest. */
  file: z.string().min(1),
  /** Optional sha256 of the file; checked at load when present. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  inputName: z.string().min(1).optional(),
  outputName: z.string().min(1).optional(),
  /** '2d': slice-wise NCHW on axial slices; '3d': patch-wise NCDHW. H = patient y (P), W = patient x (L). */
  layout: z.enum(['2d', '3d']),
  /**
   * Voxel spacing (mm) of the model's grid along patient x (L), y (P), z (S). The volume is resampled
   * onto an axis-aligned LPS grid with this spacing; null z (2D models) keeps the native slice spacing.
   */
  spacing: z.tuple([positive, positive, positive.nullable()]),
  /** Patch size in voxels: [x, y] for 2d, [x, y, z] for 3d. */
  patchSize: z.union([z.tuple([z.number().int().min(1), z.number().int().min(1)]), z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)])]),
  /**
   * 2D only: the network is fully convolutional with dynamic height/width, so whole slices are fed
   * at once (padded up to a multiple of `sizeMultiple`, and never below patchSize) instead of
   * sliding patchSize windows over them: one run per slice, no blending seams.
   */
  wholeSlice: z.boolean().default(false),
  /** The network's total down-sampling factor: whole-slice sizes are rounded up to a multiple of it. */
  sizeMultiple: z.number().int().min(1).default(8),
  /** Sliding-window overlap as a fraction of the patch (0 ≤ overlap < 1). */
  overlap: z.number().min(0).lt(1).default(0.25),
  blending: z.enum(['gaussian', 'constant']).default('gaussian'),
  batchSize: z.number().int().min(1).max(256).default(8),
  preprocessing,
  /** Intensity (HU) for points outside the volume, before preprocessing. CT air by default. */
  fillValue: z.number().default(-1024),
  output: z.object({
    /** Applied to the model output over the channel axis; 'none' when the graph already ends in softmax/sigmoid. */
    activation: z.enum(['softmax', 'sigmoid', 'none']),
    /** Label value for each output channel, 0 = background (e.g. [0, 1, 2]). */
    channelLabels: z.array(z.number().int().min(0).max(255)).min(1),
    /** Sigmoid outputs: a voxel gets the most probable label whose probability exceeds this. */
    threshold: z.number().gt(0).lt(1).default(0.5),
  }),
  postprocessing: z.object({ largestComponentPerLabel: z.boolean().default(false) }).default({ largestComponentPerLabel: false }),
});

/** The base manifest (src/ml/manifest.ts) extended with the ONNX section. */
export const onnxManifestSchema = manifestBaseSchema.extend({
  kind: z.literal('onnx'),
  onnx: onnxSection,
  /** Free-form provenance (training data, script, metrics); not used at run time. */
  training: z.record(z.string(), z.unknown()).optional(),
});

/** Cross-field rules of the ONNX section (zod 4 cannot .extend() a refined schema, so they live here). */
function onnxProblems(m: z.infer<typeof onnxManifestSchema>): string[] {
  const problems: string[] = [];
  const values = new Set(m.labels.map((l) => l.value));
  for (const v of m.onnx.output.channelLabels) {
    if (v !== 0 && !values.has(v)) problems.push(`onnx.output.channelLabels: ${v} is not a label value`);
  }
  const want = m.onnx.layout === '2d' ? 2 : 3;
  if (m.onnx.patchSize.length !== want) problems.push(`onnx.patchSize: needs ${want} numbers for layout ${m.onnx.layout}`);
  if (m.onnx.layout === '3d' && m.onnx.spacing[2] === null) problems.push('onnx.spacing: 3d layout needs a z spacing');
  if (m.onnx.layout === '3d' && m.onnx.wholeSlice) problems.push('onnx.wholeSlice: 2d layout only');
  return problems;
}

export type OnnxManifest = z.infer<typeof onnxManifestSchema> & ModelManifest;
export type OnnxSpec = OnnxManifest['onnx'];
export type Preprocessing = OnnxSpec['preprocessing'];

export interface LoadedOnnxManifest {
  readonly manifest: OnnxManifest;
  /** Absolute path of the ONNX file. */
  readonly modelPath: string;
}

/** Parse a manifest object (already read from JSON). Throws DfaError MODEL_INVALID. */
export function parseOnnxManifest(json: unknown, source = 'manifest'): OnnxManifest {
  const m = parseManifest(json, source, onnxManifestSchema);
  const problems = onnxProblems(m);
  if (problems.length > 0) {
    throw new DfaError('MODEL_INVALID', `invalid model manifest ${source}: ${problems.join('; ')}`, { details: { source } });
  }
  return m;
}

export async function loadOnnxManifest(manifestPath: string): Promise<LoadedOnnxManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `cannot read model manifest ${manifestPath}`, { cause: e, details: { manifestPath } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `model manifest ${manifestPath} is not JSON`, { cause: e, details: { manifestPath } });
  }
  const manifest = parseOnnxManifest(json, manifestPath);
  const f = manifest.onnx.file;
  const modelPath = isAbsolute(f) ? f : resolve(dirname(manifestPath), f);
  return { manifest, modelPath };
}

/** The plain ModelManifest part (what RTSTRUCT/SEG writers and FHIR reports use). */
export function baseManifest(m: OnnxManifest): ModelManifest {
  return {
    name: m.name,
    version: m.version,
    kind: 'onnx',
    modality: m.modality,
    bodyPart: m.bodyPart,
    ...(m.description === undefined ? {} : { description: m.description }),
    labels: m.labels,
  };
}
