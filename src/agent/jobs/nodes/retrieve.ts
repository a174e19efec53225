import { jobPrefix, type JobNode } from '../context.ts';

/**
 * retrieve: the study from the PACS into the job's input folder (the Pacs tries the configured
 * methods in order). The instance list goes to an artifact, not the checkpoint.
 */
export const retrieve: JobNode = async (state, { deps }) => {
  const prefix = `${jobPrefix(state)}/input`;
  const dir = await deps.artifacts.dir(prefix);
  const r = await deps.pacs.retrieve({ studyInstanceUid: state.item.studyInstanceUid }, dir);
  await deps.artifacts.put(`${jobPrefix(state)}/instances.json`, new TextEncoder().encode(JSON.stringify(r.instances)));
  return { retrieved: { dir, method: r.method, count: r.instances.length } };
};
