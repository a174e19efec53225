import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Config } from '../../core/config.ts';
import type { Plan } from '../plan.ts';
import { modelDirOf } from '../../ml/registry.ts';
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
      : draftPlanByRules(goal, { now, defaultSegmenter: config.DFA_SEGMENTER });
  const plan = draft.plan;
  const withFallback = config.DFA_FALLBACK_SEGMENTER && !plan.pipeline.fallbackSegmenter
    ? { ...plan, pipeline: { ...plan.pipeline, fallbackSegmenter: config.DFA_FALLBACK_SEGMENTER } }
    : plan;
  return validatePlan(withFallback, caps, draft.problems);
}

/** DFA_SEGMENTER names a kind or an installed model; anything else is a configuration error (exit 2), not a goal refusal. */
export function checkDefaultSegmenter(name: string, caps: Capabilities): void {
  const allowed = [...new Set([...caps.models.map((m) => m.kind), ...caps.models.map((m) => m.name)])];
  if (!allowed.includes(name)) {
    throw new DfaError('CONFIG_INVALID', `bad configuration: DFA_SEGMENTER='${name}' is not allowed: one of ${allowed.join(', ') || '(no models installed)'}`);
  }
}
