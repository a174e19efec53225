import { DfaError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/model.ts';
import { describeModels, findModel } from '../../ml/registry.ts';
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

  // A model the plan (or DFA_SEGMENTER / DFA_FALLBACK_SEGMENTER) names must be installed: refused
  // now, with exit 2, never discovered mid-job.
  const { segmenter, fallbackSegmenter, segmenterNamed } = plan.pipeline;
  for (const ref of [segmenter, ...(fallbackSegmenter && !segmenterNamed ? [fallbackSegmenter] : [])]) {
    if (!findModel(caps.models, ref)) {
      throw new DfaError('MODEL_NOT_INSTALLED', `the plan needs model '${ref}', which is not installed (installed: ${describeModels(caps.models) || 'none'})`, {
        details: { model: ref, understood: plan.understood },
      });
    }
  }
  let primary: ModelManifest | undefined;
  let fallback: ModelManifest | undefined;
  if (missing.length === 0) {
    const covering = caps.models.filter(
      (m) => m.modality.toUpperCase() === modality && plan.pipeline.structures.every((s) => m.labels.some((l) => l.roiName === s)),
    );
    primary = findModel(covering, segmenter);
    if (!primary) {
      missing.push(`an installed '${segmenter}' model for ${plan.pipeline.structures.join(', ')} (installed: ${covering.map((m) => `${m.name} (${m.kind})`).join(', ') || 'none'})`);
    } else if (!segmenterNamed) {
      // Automatic fallback only when the goal left the choice of segmenter to the system (issue 11).
      const others = covering.filter((m) => m !== primary);
      fallback = fallbackSegmenter ? findModel(others, fallbackSegmenter) : others[0];
      if (fallbackSegmenter && !fallback) missing.push(`a fallback '${fallbackSegmenter}' other than ${primary.name} that segments ${plan.pipeline.structures.join(', ')}`);
    }
  }
  if (missing.length > 0) throw refuse(plan.understood, missing);
  const how = segmenterNamed
    ? ', named by the goal: no automatic fallback (a QC failure ends the job)'
    : fallback
      ? `, fallback ${fallback.name} ${fallback.version} when QC fails`
      : ', no fallback installed';
  const understood = [...plan.understood, `segmenter: ${primary!.name} ${primary!.version} (${primary!.kind})${how}`];
  const { fallbackSegmenter: _f, ...pipeline } = plan.pipeline;
  return {
    ...plan,
    pipeline: { ...pipeline, segmenter: primary!.name, ...(fallback ? { fallbackSegmenter: fallback.name } : {}) },
    understood,
  };
}

function refuse(understood: readonly string[], missing: readonly string[]): DfaError {
  const u = understood.length ? `understood: ${understood.join('; ')}. ` : '';
  return new DfaError('GOAL_UNSUPPORTED', `cannot serve this goal — ${u}missing: ${missing.join('; ')}`, {
    details: { understood, missing },
  });
}
