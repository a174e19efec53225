import { DfaError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/model.ts';
import { PlanSchema, type Plan } from '../plan.ts';
import { modalitiesOf, structuresFor, type Capabilities } from './capabilities.ts';

/**
 * Decides whether this installation can serve a plan, and resolves the segmenter to an installed
 * model (by kind or name) plus a fallback model covering the same structures. A goal it cannot
 * serve is refused (exit code 2) naming what was understood and what is missing — never guessed.
 */
export function validatePlan(draft: unknown, caps: Capabilities, extraProblems: readonly string[] = []): Plan {
  const parsed = PlanSchema.safeParse(draft);
  if (!parsed.success) {
    // Problems read from the goal explain an invalid draft better than schema paths do.
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    const understood = (draft as { understood?: unknown })?.understood;
    throw refuse(Array.isArray(understood) ? understood.map(String) : [], extraProblems.length ? extraProblems : [`a valid plan (${why})`]);
  }
  const plan = parsed.data;
  const missing = [...extraProblems];
  const modality = plan.selection.modality.toUpperCase();
  const mods = modalitiesOf(caps);
  if (!mods.has(modality)) {
    missing.push(`a model for ${modality} (installed models handle: ${[...mods].join(', ') || 'none'})`);
  } else {
    const can = structuresFor(caps, modality);
    const cannot = plan.pipeline.structures.filter((s) => !can.has(s));
    if (cannot.length) missing.push(`a ${modality} model that segments ${cannot.join(', ')} (installed: ${[...can].join(', ')})`);
  }
  if (!plan.outputs.rtstruct && !plan.outputs.seg) missing.push('an output (RTSTRUCT or SEG)');

  let primary: ModelManifest | undefined;
  let fallback: ModelManifest | undefined;
  if (missing.length === 0) {
    const covering = caps.models.filter(
      (m) => m.modality.toUpperCase() === modality && plan.pipeline.structures.every((s) => m.labels.some((l) => l.roiName === s)),
    );
    primary = covering.find((m) => m.name === plan.pipeline.segmenter) ?? covering.find((m) => m.kind === plan.pipeline.segmenter);
    if (!primary) {
      missing.push(`an installed '${plan.pipeline.segmenter}' model for ${plan.pipeline.structures.join(', ')} (installed: ${covering.map((m) => `${m.name} (${m.kind})`).join(', ') || 'none'})`);
    } else {
      fallback =
        covering.find((m) => m !== primary && (m.name === plan.pipeline.fallbackSegmenter || m.kind === plan.pipeline.fallbackSegmenter)) ??
        (plan.pipeline.fallbackSegmenter ? undefined : covering.find((m) => m !== primary));
    }
  }
  if (missing.length > 0) throw refuse(plan.understood, missing);
  const understood = [...plan.understood, `segmenter: ${primary!.name} ${primary!.version} (${primary!.kind})${fallback ? `, fallback ${fallback.name} ${fallback.version} when QC fails` : ''}`];
  return {
    ...plan,
    pipeline: { ...plan.pipeline, segmenter: primary!.name, ...(fallback ? { fallbackSegmenter: fallback.name } : {}) },
    understood,
  };
}

function refuse(understood: readonly string[], missing: readonly string[]): DfaError {
  const u = understood.length ? `understood: ${understood.join('; ')}. ` : '';
  return new DfaError('GOAL_UNSUPPORTED', `cannot serve this goal — ${u}missing: ${missing.join('; ')}`, {
    details: { understood, missing },
  });
}
