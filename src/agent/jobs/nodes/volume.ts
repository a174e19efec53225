import { localPaths } from '../artifact-files.ts';
import { jobPrefix, need, type JobNode } from '../context.ts';
import { saveVolume } from '../volume-artifacts.ts';

/** volume: the selected series → one Volume (LPS, mm), saved as an artifact for the next steps. */
export const volume: JobNode = async (state, { deps }) => {
  const series = need(state.series, 'series');
  const key = `${jobPrefix(state)}/volume`;
  deps.prefetchVolume?.(key, series.files); // a remote ml_processor loads it meanwhile
  const v = await deps.loadVolume(await localPaths(deps.artifacts, series.files));
  await saveVolume(deps.artifacts, key, v, series.files);
  return {
    volumeRef: { key, patientId: v.meta.patientId, frameOfReferenceUid: v.meta.frameOfReferenceUid, slices: v.dims[2] },
  };
};
