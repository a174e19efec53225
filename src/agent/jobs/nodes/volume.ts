import { need, jobPrefix, type JobNode } from '../context.ts';
import { volumeHostOf } from '../local-volume-host.ts';

/**
 * volume: the selected series → one Volume (LPS, mm), loaded where it will be segmented (this
 * process, or a remote ml_processor: JobDeps.volumeHost) and saved as an artifact for the next steps.
 */
export const volume: JobNode = async (state, { deps }) => {
  const series = need(state.series, 'series');
  const key = `${jobPrefix(state)}/volume`;
  const v = await volumeHostOf(deps).open(key, series.files);
  return {
    volumeRef: { key, patientId: v.meta.patientId, frameOfReferenceUid: v.meta.frameOfReferenceUid, slices: v.dims[2] },
  };
};
