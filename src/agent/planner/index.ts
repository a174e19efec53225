import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Config } from '../../core/config.ts';
import type { Plan } from '../plan.ts';
import { describeModels, findModel, modelDirOf } from '../../ml/registry.ts';
import { loadCapabilities, type Capabilities } from './capabilities.ts';
import { chatModelFromConfig, draftPlanWithLlm } from './llm.ts';
import { draftPlanByRules } from './rules.ts';
import { validatePlan } from './validate.ts';
import { DfaError } from '../../core/errors.ts';

export { loadCapabilities, type Capabilities } from './capabilities.ts';

export interface PlanGoalOptions {
  readonly capabilities?: Capabilities;
  readonly now?: Date;
  /** 'rules' (default unless DFA_LLM_BASE_URL is set) or 'llm'. */
  readonly planner?: 'rules' | 'llm';
  /** Inject a chat model (tests use a scripted one). */
  readonly chatModel?: BaseChatModel;
}

/** Goal sentence → validated Plan, or DfaError GOAL_UNSUPPORTED naming what is missing. */
export async function planGoal(goal: string, config: Config, opts: PlanGoalOptions = {}): Promise<Plan> {
  const caps = opts.capabilities ?? (await loadCapabilities(modelDirOf(config)));
  checkDefaultSegmenter(config.DFA_SEGMENTER, caps);
  const now = opts.now ?? new Date();
  const planner = opts.planner ?? (opts.chatModel || config.DFA_LLM_BASE_URL ? 'llm' : 'rules');
  const draft =
    planner === 'llm'
      ? await draftPlanWithLlm(goal, opts.chatModel ?? (await chatModelFromConfig(config)), caps, now)
      : draftPlanByRules(goal, { now, defaultSegmenter: config.DFA_SEGMENTER, defaultReview: config.DFA_REVIEW });
  const plan = draft.plan;
  const withFallback = config.DFA_FALLBACK_SEGMENTER && !plan.pipeline.fallbackSegmenter
    ? { ...plan, pipeline: { ...plan.pipeline, fallbackSegmenter: config.DFA_FALLBACK_SEGMENTER } }
    : plan;
  return validatePlan(withFallback, caps, draft.problems);
}

/**
 * DFA_SEGMENTER names a kind or an installed model (`name` or `name@version`, as the model registry
 * resolves them); anything else is a configuration error (exit 2) raised before any goal is read.
 */
export function checkDefaultSegmenter(name: string, caps: Capabilities): void {
  if (name === 'classical' || name === 'onnx' || findModel(caps.models, name)) return;
  const allowed = [...new Set(['classical', 'onnx', ...caps.models.map((m) => m.name)])];
  throw new DfaError(
    'MODEL_NOT_INSTALLED',
    `bad configuration: DFA_SEGMENTER='${name}' is not allowed: one of ${allowed.join(', ')} — no model '${name}' is installed (installed: ${describeModels(caps.models) || 'none'})`,
    { details: { setting: 'DFA_SEGMENTER', model: name } },
  );
}
