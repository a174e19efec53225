import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DfaError } from '../core/errors.ts';
import type { LabelInfo, ModelManifest } from '../core/model.ts';

/**
 * Model manifests (MONAI-deploy style: the model declares its labels, so the RTSTRUCT/SEG writers
 * and the FHIR report take ROI names, colours and codes from here and nowhere else).
 *
 * `manifestBaseSchema` is exported so a model family can extend it (e.g. src/ml/onnx/manifest.ts
 * adds input spacing, size and preprocessing with `manifestBaseSchema.extend({...})`). Unknown keys
 * are kept (`.loose()`), so a manifest written for a richer loader still reads here. Keep the base
 * schema free of refinements (zod 4 refuses to `.extend()` a refined object); cross-field rules live
 * in `labelProblems` and run for every schema in `parseManifest`.
 */
export const codedConceptSchema = z.object({
  // PS3.16 coding scheme designator, e.g. 'SCT' (SNOMED CT)
  scheme: z.string().min(1).max(16),
  code: z.string().min(1).max(64),
  meaning: z.string().min(1).max(64), // PS3.5: CodeMeaning is LO (64 chars)
});

export const labelInfoSchema = z
  .object({
    value: z.number().int().min(1).max(255), // label maps are Uint8; 0 = background
    // AAPM TG-263 names are ≤ 16 characters and fit ROIName (LO)
    roiName: z.string().min(1).max(64),
    color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]),
    concept: codedConceptSchema,
    category: codedConceptSchema,
  })
  .loose();

export const manifestBaseSchema = z
  .object({
    name: z.string().min(1).max(64),
    version: z.string().min(1).max(64),
    kind: z.enum(['classical', 'onnx']),
    modality: z.string().min(1).max(16),
    bodyPart: z.string().min(1).max(16),
    description: z.string().optional(),
    labels: z.array(labelInfoSchema).min(1),
  })
  .loose();

/** Rules no per-field schema can state: label values and ROI names are unique. */
function labelProblems(m: ModelManifest): string[] {
  const problems: string[] = [];
  const values = new Set<number>();
  const names = new Set<string>();
  for (const l of m.labels) {
    if (values.has(l.value)) problems.push(`labels: duplicate label value ${l.value}`);
    if (names.has(l.roiName)) problems.push(`labels: duplicate roiName ${l.roiName}`);
    values.add(l.value);
    names.add(l.roiName);
  }
  return problems;
}

/**
 * Validate a parsed manifest against `schema` (the base one by default, or an extension).
 * Throws DfaError MODEL_INVALID naming every problem; `source` (a path) goes into the message.
 */
export function parseManifest<S extends z.ZodType<ModelManifest>>(json: unknown, source = 'manifest', schema?: S): z.infer<S> {
  const s = (schema ?? manifestBaseSchema) as z.ZodType;
  const r = s.safeParse(json);
  const problems = r.success
    ? labelProblems(r.data as ModelManifest)
    : r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (problems.length > 0) {
    throw new DfaError('MODEL_INVALID', `invalid model manifest ${source}: ${problems.join('; ')}`, {
      cause: r.error,
      details: { source },
    });
  }
  return r.data as z.infer<S>;
}

function parseText<S extends z.ZodType<ModelManifest>>(text: string, path: string, schema?: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `model manifest ${path} is not JSON`, { cause: e, details: { source: path } });
  }
  return parseManifest(json, path, schema);
}

/** Read and validate a manifest file. */
export async function loadManifest<S extends z.ZodType<ModelManifest>>(path: string, schema?: S): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `cannot read model manifest ${path}`, { cause: e, details: { source: path } });
  }
  return parseText(text, path, schema);
}

/** Synchronous variant, for building a default segmenter from a shipped manifest. */
export function loadManifestSync<S extends z.ZodType<ModelManifest>>(path: string, schema?: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `cannot read model manifest ${path}`, { cause: e, details: { source: path } });
  }
  return parseText(text, path, schema);
}

/** The shipped models/ directory (overridable with DFA_MODEL_DIR by callers). */
export const SHIPPED_MODELS_DIR = new URL('../../models/', import.meta.url);

/** The label with this ROI name, or a MODEL_INVALID fault naming the manifest. */
export function labelByRoiName(manifest: ModelManifest, roiName: string): LabelInfo {
  const l = manifest.labels.find((x) => x.roiName === roiName);
  if (!l) throw new DfaError('MODEL_INVALID', `model ${manifest.name} has no label '${roiName}'`);
  return l;
}

/** The label with this value, or a MODEL_INVALID fault. */
export function labelByValue(manifest: ModelManifest, value: number): LabelInfo {
  const l = manifest.labels.find((x) => x.value === value);
  if (!l) throw new DfaError('MODEL_INVALID', `model ${manifest.name} has no label value ${value}`);
  return l;
}
