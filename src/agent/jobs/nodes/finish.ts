import { jobPrefix, type JobNode } from '../context.ts';
import { forget } from '../volume-artifacts.ts';

/** complete: the Task is completed; the job succeeded. */
export const complete: JobNode = async (state, { deps }) => {
  if (state.task) await deps.fhir.updateTask(state.task, 'completed');
  return { outcome: { status: 'succeeded' } };
};

/**
 * finish: every path ends here. A failed job marks its Task failed with the reason (FHIR Task
 * statusReason) and leaves the ImagingStudy `registered`; one skipped before its Task existed leaves
 * FHIR untouched, one skipped later (no lung in view) rejects its Task with the reason. Inputs of a
 * job that ended well are removed (outputs stay); a failed job keeps them for a look.
 */
export const finish: JobNode = async (state, { deps }) => {
  const o = state.outcome;
  if (o?.status === 'failed' && state.task) {
    await deps.fhir.updateTask(state.task, 'failed', `${o.step ?? 'job'}: ${o.reason ?? 'failed'}`);
  }
  // Skipped after the Task was made (no lung in the field of view): R4 Task `rejected` — the
  // performer decided not to do it — with the reason. The ImagingStudy is left as it was: nothing
  // was added to it, and no DiagnosticReport claims a result.
  if (o?.status === 'skipped' && state.task) await deps.fhir.updateTask(state.task, 'rejected', o.reason ?? 'skipped');
  forget(jobPrefix(state));
  if (o?.status === 'succeeded') {
    await deps.artifacts.remove(`${jobPrefix(state)}/input`);
    await deps.artifacts.remove(`${jobPrefix(state)}/volume`);
  }
  return {};
};
