import { jobPrefix, need, type JobNode } from '../context.ts';
import type { OutputRef } from '../state.ts';
import { loadSavedLabels, loadSavedVolumeInfo } from '../volume-artifacts.ts';

/** writeOutputs: RTSTRUCT and/or SEG as the plan asks, with deterministic UIDs, into the artifact store. */
export const writeOutputs: JobNode = async (state, { deps }) => {
  const seg = need(state.seg, 'seg');
  const series = need(state.series, 'series');
  const { outputs, pipeline } = state.plan;
  // The writers need the volume's geometry and slice references only, not its voxels.
  const v = await loadSavedVolumeInfo(deps.artifacts, need(state.volumeRef, 'volumeRef').key);
  const labels = await loadSavedLabels(deps.artifacts, seg.key);
  const write = async (kind: 'rtstruct' | 'seg', writer: NonNullable<typeof deps.writeSeg>): Promise<OutputRef> => {
    // Only the plan's structures: the manifest handed to the writer lists just those labels.
    const manifest = { ...seg.manifest, labels: seg.manifest.labels.filter((l) => pipeline.structures.includes(l.roiName)) };
    const out = await writer({ volume: v, labels, manifest });
    if (out.seriesInstanceUid === series.seriesInstanceUid) throw new Error('writer reused the source series UID');
    const key = `${jobPrefix(state)}/out/${kind}.dcm`;
    const path = await deps.artifacts.put(key, out.part10);
    return { seriesInstanceUid: out.seriesInstanceUid, sopInstanceUid: out.sopInstanceUid, key, path };
  };
  const update: { rtstruct?: OutputRef; segObject?: OutputRef } = {};
  if (outputs.rtstruct) update.rtstruct = await write('rtstruct', deps.writeRtstruct);
  if (outputs.seg) {
    if (!deps.writeSeg) return { outcome: { status: 'failed', step: 'writeOutputs', reason: 'no DICOM SEG writer is installed' } };
    update.segObject = await write('seg', deps.writeSeg);
  }
  return update;
};
