import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import { DfaError } from '../../core/errors.ts';
import type { Config } from '../../core/config.ts';
import { PlanSchema } from '../plan.ts';
import type { Capabilities } from './capabilities.ts';
import { FILLER, GoalReader } from './reader.ts';
import { unplacedProblem, type PlanDraft } from './rules.ts';

/**
 * Optional LLM planner: any chat model (OpenAI-compatible endpoint via DFA_LLM_BASE_URL) fills the
 * same Plan schema through structured output (tool calling). Its draft is validated exactly like
 * the rule planner's, so an LLM can never widen what the system does.
 */
const LlmOutput = PlanSchema.omit({ goal: true }).extend({
  problems: z
    .array(z.string())
    .default([])
    .describe('Parts of the goal this installation cannot serve (unknown organ, output, modality). Empty if none.'),
  wordsUsed: z
    .array(z.string())
    .describe('Every phrase of the goal, copied exactly, that you turned into part of the plan. Words you did not use make the goal refused.'),
});

/**
 * The same accounting as the rule planner: every word of the goal is one the model says it used
 * (and that phrase really is in the goal) or a filler word; otherwise the goal is refused.
 */
export function accountForWords(goal: string, wordsUsed: readonly string[]): string[] {
  const r = new GoalReader(goal);
  const problems: string[] = [];
  const invented = wordsUsed.filter((w) => w.trim() !== '' && !r.takePhrase(w.replace(/\s+/g, ' ').trim()));
  if (invented.length) problems.push(`a plan from the goal's own words (the LLM planner cites ${invented.map((w) => `"${w}"`).join(', ')}, not in the goal)`);
  const left = r.leftover(FILLER);
  if (left.length) problems.push(unplacedProblem(left));
  return problems;
}

function systemPrompt(caps: Capabilities, now: Date): string {
  const models = caps.models
    .map((m) => `- ${m.name} ${m.version} (${m.kind}): ${m.modality} ${m.bodyPart}, structures ${m.labels.map((l) => l.roiName).join(', ')}`)
    .join('\n');
  return [
    'You turn an imaging-AI goal into a plan by calling the `plan` tool. Never invent capabilities.',
    `Today is ${now.toISOString().slice(0, 10)} (dates are YYYY-MM-DD).`,
    'Installed models:',
    models || '- none',
    'Rules: selection.status is "registered" for pending work, "available" for finished studies, "any" when',
    'specific study UIDs are named. structures use the TG-263 names above. pipeline.segmenter is "classical",',
    '"onnx" or a model name; pipeline.segmenterNamed is true only when the goal itself names the method or model. outputs: rtstruct / seg (DICOM SEG) / fhirReport; when the goal names outputs, set',
    'exactly those; otherwise rtstruct and seg. store.method: "default" unless STOW-RS or C-STORE is named.',
    'rerun is true only when the user asks to redo work. Put anything you cannot map into problems.',
    'understood: short phrases saying what you understood. wordsUsed: the exact phrases of the goal you used;',
    'every word of the goal must be in wordsUsed unless it is filler ("the", "please", "scans"). Never drop a',
    'restriction (patient, date, accession, count, "except …"): if you cannot express it, put it in problems.',
  ].join('\n');
}

export async function draftPlanWithLlm(goal: string, model: BaseChatModel, caps: Capabilities, now: Date): Promise<PlanDraft> {
  if (typeof model.bindTools !== 'function') throw new DfaError('CONFIG_INVALID', 'the LLM planner needs a chat model with tool calling');
  // Structured output by function calling: the model must call `plan` with arguments in our schema.
  const tool = {
    type: 'function' as const,
    function: { name: 'plan', description: 'The plan for this imaging-AI goal.', parameters: z.toJSONSchema(LlmOutput, { io: 'input' }) },
  };
  const bound = model.bindTools([tool], { tool_choice: { type: 'function', function: { name: 'plan' } } });
  let out: z.infer<typeof LlmOutput>;
  try {
    const msg = await bound.invoke([new SystemMessage(systemPrompt(caps, now)), new HumanMessage(goal)]);
    const call = msg.tool_calls?.find((c) => c.name === 'plan');
    if (!call) throw new z.ZodError([{ code: 'custom', path: [], message: 'the model did not call the plan tool', input: undefined }]);
    out = LlmOutput.parse(call.args);
  } catch (e) {
    if (e instanceof z.ZodError) {
      throw new DfaError('GOAL_UNSUPPORTED', `the LLM planner returned an invalid plan: ${e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { cause: e });
    }
    throw new DfaError('SERVICE_UNREACHABLE', `LLM planner failed: ${(e as Error).message}`, { cause: e });
  }
  const { problems, wordsUsed, ...rest } = out;
  return { plan: { goal, ...rest, understood: [...rest.understood, '(planned by LLM)'] }, problems: [...problems, ...accountForWords(goal, wordsUsed)] };
}

/** ChatOpenAI pointed at any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, LM Studio...). */
export async function chatModelFromConfig(cfg: Config): Promise<BaseChatModel> {
  if (!cfg.DFA_LLM_BASE_URL) throw new DfaError('CONFIG_INVALID', 'the LLM planner needs DFA_LLM_BASE_URL');
  const { ChatOpenAI } = await import('@langchain/openai');
  return new ChatOpenAI({
    model: cfg.DFA_LLM_MODEL ?? 'gpt-4o-mini',
    apiKey: cfg.DFA_LLM_API_KEY ?? 'not-needed',
    temperature: 0,
    timeout: 60000,
    maxRetries: 1,
    configuration: { baseURL: cfg.DFA_LLM_BASE_URL },
  });
}
