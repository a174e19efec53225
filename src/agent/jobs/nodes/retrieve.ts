import { keyInDir } from '../artifact-files.ts';
import { jobPrefix, type JobNode } from '../context.ts';
import type { JobDeps } from '../deps.ts';
import type { StoredRetrieval } from '../../../core/ports.ts';

/**
 * retrieve: the study from the PACS into the job's input folder (the Pacs tries the configured
 * methods in order), published to the artifact store. The instance list goes to an artifact, not
 * the checkpoint, and names each file by its artifact key (a worker on another machine may resume).
 * A dicom_handler that shares the store writes the files there itself (Pacs.retrieveToStore): the
 * volume step fetches them into this process's working copy when it reads them.
 */
export const retrieve: JobNode = async (state, { deps }) => {
  const prefix = `${jobPrefix(state)}/input`;
  const req = { studyInstanceUid: state.item.studyInstanceUid };
  const r = deps.pacs.retrieveToStore ? await deps.pacs.retrieveToStore(req, prefix) : await retrieveHere(deps, req, prefix);
  await deps.artifacts.put(`${jobPrefix(state)}/instances.json`, new TextEncoder().encode(JSON.stringify(r.instances)));
  return { retrieved: { prefix, method: r.method, count: r.instances.length } };
};

/** The PACS in this process: into the local folder of `prefix`, then published. */
async function retrieveHere(deps: JobDeps, req: { studyInstanceUid: string }, prefix: string): Promise<StoredRetrieval> {
  const dir = await deps.artifacts.dir(prefix);
  const r = await deps.pacs.retrieve(req, dir);
  await deps.artifacts.commit(prefix);
  return { method: r.method, attempts: r.attempts, instances: r.instances.map(({ path, ...uids }) => ({ ...uids, key: keyInDir(prefix, dir, path) })) };
}
