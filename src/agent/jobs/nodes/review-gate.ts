import { interrupt } from '@langchain/langgraph';
import type { QcResult } from '../../../core/model.ts';
import { need, type JobNode } from '../context.ts';
import type { ReviewDecision } from '../state.ts';

/** When a person looks before anything reaches the PACS (plan.review; DFA_REVIEW sets the default). */
export type ReviewPolicy = 'never' | 'on-qc-fail' | 'always';

/** Why this job needs a person's review, or undefined when it goes straight on to `store`. */
export function reviewReason(policy: ReviewPolicy, qc: QcResult): string | undefined {
  const failed = qc.checks.filter((c) => !c.ok).map((c) => `${c.name}=${c.value} (expected ${c.expected})`);
  if (policy === 'always') return failed.length > 0 ? `review required; QC failed: ${failed.join('; ')}` : 'review required by the plan';
  if (policy === 'on-qc-fail' && !qc.ok) return `QC failed: ${failed.join('; ')}`;
  return undefined;
}

/**
 * reviewGate: a job whose contours need a person's review stops here, durably (LangGraph
 * interrupt + the Postgres checkpointer: it survives restarts, other jobs go on). The FHIR Task is
 * on-hold meanwhile, the ImagingStudy stays `registered`, nothing is in the PACS yet. The decision
 * resumes the node: approve → on to `store`; reject → the job ends with the reviewer's reason.
 * The node runs again from the top on resume, so everything before `interrupt` is idempotent.
 */
export const reviewGate: JobNode = async (state, { deps }) => {
  const seg = need(state.seg, 'seg');
  const why = reviewReason(state.plan.review ?? 'on-qc-fail', seg.qc);
  if (!why) return {};
  if (state.task) await deps.fhir.updateTask(state.task, 'on-hold', `awaiting contour review: ${why}`);
  const d = interrupt<{ reason: string }, ReviewDecision>({ reason: why });
  if (d.decision === 'reject') {
    const reason = `contours rejected by ${d.reviewer}${d.comment ? `: ${d.comment}` : ''}`;
    return { review: d, outcome: { status: 'failed', step: 'review', reason } };
  }
  if (state.task) await deps.fhir.updateTask(state.task, 'in-progress');
  return { review: d };
};
