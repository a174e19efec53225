import type { SegmentationOutcome } from '../../../core/ports.ts';
import { jobPrefix, need, type JobNode } from '../context.ts';
import { loadSavedVolume, saveLabels } from '../volume-artifacts.ts';

function failedChecks(o: SegmentationOutcome): string {
  return o.qc.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}=${c.value} (expected ${c.expected})`)
    .join('; ');
}

/**
 * segment: the plan's segmenter, then QC; when QC fails and the plan names a fallback segmenter, the
 * fallback gets its turn (DESIGN.md: fallback on QC failure). Still failing QC ends the job failed:
 * a contour that failed QC is never written to the PACS.
 */
export const segment: JobNode = async (state, { deps, audit }) => {
  const v = await loadSavedVolume(deps.artifacts, need(state.volumeRef, 'volumeRef').key);
  const { segmenter, fallbackSegmenter, structures } = state.plan.pipeline;
  let out = await deps.segment(v, segmenter);
  let fallbackUsed = false;
  if (!out.qc.ok && fallbackSegmenter) {
    const why = failedChecks(out);
    deps.log.warn('QC failed, trying the fallback segmenter', { job: state.jobKey, segmenter, fallbackSegmenter, why });
    await audit?.event(state.jobKey, state.generation, 'fallback', 'segment', `QC failed for ${segmenter} (${why}); trying ${fallbackSegmenter}`);
    out = await deps.segment(v, fallbackSegmenter);
    fallbackUsed = true;
  }
  const model = { name: out.manifest.name, version: out.manifest.version };
  if (!out.qc.ok) {
    return { outcome: { status: 'failed', step: 'segment', reason: `QC failed for ${model.name}: ${failedChecks(out)}` } };
  }
  const missing = structures.filter((s) => !out.manifest.labels.some((l) => l.roiName === s));
  if (missing.length > 0) {
    return { outcome: { status: 'failed', step: 'segment', reason: `model ${model.name} has no ${missing.join(', ')}` } };
  }
  const key = `${jobPrefix(state)}/labels`;
  await saveLabels(deps.artifacts, key, out.labels);
  const labels = out.manifest.labels.filter((l) => structures.includes(l.roiName));
  const volumesMl = Object.fromEntries(Object.entries(out.volumesMl).filter(([k]) => structures.includes(k)));
  return { seg: { key, model, manifest: out.manifest, labels, volumesMl, qc: out.qc, fallbackUsed } };
};
