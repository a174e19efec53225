import type { JobNode } from '../context.ts';

/** ensureTask: the FHIR Task for this job (found by identifier = job key, so never two), in progress. */
export const ensureTask: JobNode = async (state, { deps }) => {
  const task = await deps.fhir.ensureTask(state.item, state.jobKey);
  await deps.fhir.updateTask(task, 'in-progress');
  return { task };
};
