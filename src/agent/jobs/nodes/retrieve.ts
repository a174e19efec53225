import { keyInDir } from '../artifact-files.ts';
import { jobPrefix, type JobNode } from '../context.ts';

/**
 * retrieve: the study from the PACS into the job's input folder (the Pacs tries the configured
 * methods in order), published to the artifact store. The instance list goes to an artifact, not
 * the checkpoint, and names each file by its artifact key (a worker on another machine may resume).
 */
export const retrieve: JobNode = async (state, { deps }) => {
  const prefix = `${jobPrefix(state)}/input`;
  const dir = await deps.artifacts.dir(prefix);
  const r = await deps.pacs.retrieve({ studyInstanceUid: state.item.studyInstanceUid }, dir);
  await deps.artifacts.commit(prefix);
  const instances = r.instances.map((i) => ({ ...i, key: keyInDir(prefix, dir, i.path) }));
  await deps.artifacts.put(`${jobPrefix(state)}/instances.json`, new TextEncoder().encode(JSON.stringify(instances)));
  return { retrieved: { dir, method: r.method, count: r.instances.length } };
};
