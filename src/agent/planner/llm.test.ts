import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { AIMessageChunk } from '@langchain/core/messages';
import { loadConfig } from '../../core/config.ts';
import { isDfaError } from '../../core/errors.ts';
import { planGoal } from './index.ts';
import { TEST_CAPS } from '../../../test/support/planner-capabilities.ts';

const now = new Date('2026-11-26T10:00:00Z');
const cfg = loadConfig({});

/** A scripted chat model that answers with one `plan` tool call, as an OpenAI-compatible server would. */
function scripted(args: Record<string, unknown>) {
  return new FakeStreamingChatModel({
    chunks: [new AIMessageChunk({ content: '', tool_calls: [{ name: 'plan', args, id: 'call_1', type: 'tool_call' }] })],
  });
}

const llmPlan = {
  selection: { status: 'registered', modality: 'CT' },
  pipeline: { task: 'segmentation', structures: ['Lung_L', 'Lung_R'], segmenter: 'onnx' },
  outputs: { rtstruct: true, seg: false, fhirReport: true },
  store: { method: 'default' },
  rerun: false,
  understood: ['pending CT studies', 'both lungs', 'RTSTRUCT'],
  problems: [],
  wordsUsed: ['do the lungs', 'waiting CTs', 'network'],
};

test('LLM planner: structured output becomes the same validated Plan', async () => {
  const p = await planGoal('Please do the lungs on the waiting CTs with the network', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted(llmPlan) });
  assert.equal(p.goal, 'Please do the lungs on the waiting CTs with the network');
  assert.equal(p.pipeline.segmenter, 'lung-unet'); // kind resolved to the installed model
  assert.equal(p.pipeline.fallbackSegmenter, 'classical-lung');
  assert.deepEqual(p.outputs, { rtstruct: true, seg: false, fhirReport: true });
  assert.ok(p.understood.includes('(planned by LLM)'));
});

test('LLM planner: a plan for a structure no model segments is refused by the same validation', async () => {
  const bad = { ...llmPlan, pipeline: { ...llmPlan.pipeline, structures: ['Liver'] } };
  await assert.rejects(
    planGoal('segment the liver', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted(bad) }),
    (e) => isDfaError(e, 'GOAL_UNSUPPORTED') && /segments Liver/.test(e.message),
  );
});

test('LLM planner: problems the model reports are refusals, not silent guesses', async () => {
  const withProblem = { ...llmPlan, problems: ['the user asked for a PDF report'] };
  await assert.rejects(
    planGoal('lungs to PDF', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted(withProblem) }),
    (e) => isDfaError(e, 'GOAL_UNSUPPORTED') && /PDF report/.test(e.message),
  );
});

test('LLM planner: malformed structured output is a clear error', async () => {
  await assert.rejects(
    planGoal('lungs', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted({ selection: 42 }) }),
    (e) => isDfaError(e, 'GOAL_UNSUPPORTED') && /invalid plan/.test(e.message),
  );
});

test('LLM planner: words the model did not use are a refusal naming them (same accounting as the rules)', async () => {
  await assert.rejects(
    planGoal('Please do the lungs on the waiting CTs with the network except patient 777888', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted(llmPlan) }),
    (e) => isDfaError(e, 'GOAL_UNSUPPORTED') && /could not place: "except", "patient", "777888"/.test(e.message),
  );
});

test('LLM planner: a cited phrase that is not in the goal is a refusal', async () => {
  const invented = { ...llmPlan, wordsUsed: [...llmPlan.wordsUsed, 'for patient 123'] };
  await assert.rejects(
    planGoal('Please do the lungs on the waiting CTs with the network', cfg, { capabilities: TEST_CAPS, now, chatModel: scripted(invented) }),
    (e) => isDfaError(e, 'GOAL_UNSUPPORTED') && /cites "for patient 123", not in the goal/.test(e.message),
  );
});
