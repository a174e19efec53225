import { toDfaError } from '../../../core/errors.ts';
import type { SegmentationOutcome } from '../../../core/ports.ts';
import { isTransient } from '../retry.ts';
import { jobPrefix, need, type JobNode } from '../context.ts';
import { loadSavedVolume, saveLabels } from '../volume-artifacts.ts';

function failedChecks(o: SegmentationOutcome): string {
  return o.qc.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}=${c.value} (expected ${c.expected})`)
    .join('; ');
}

/**
 * segment: the plan's segmenter, then QC; when QC fails (or the segmenter cannot run) and the plan
 * names a fallback segmenter, the fallback gets its turn (DESIGN.md: fallback on QC failure). Still failing QC, the
 * contours go to a person's review (review gate) or, with review 'never', the job fails: a contour that failed QC
 * never reaches the PACS unreviewed.
 */
export const segment: JobNode = async (state, { deps, audit }) => {
  const v = await loadSavedVolume(deps.artifacts, need(state.volumeRef, 'volumeRef').key, deps.loadVolume);
  const { segmenter, fallbackSegmenter, structures } = state.plan.pipeline;
  let out: SegmentationOutcome | undefined;
  let why = '';
  try {
    out = await deps.segment(v, segmenter);
    if (!out.qc.ok) why = `QC failed for ${segmenter} (${failedChecks(out)})`;
  } catch (e) {
    // A segmenter that cannot run (model file missing, bad input) also hands over to the fallback.
    if (!fallbackSegmenter || isTransient(e)) throw e;
    why = `${segmenter} failed: ${toDfaError(e).message}`;
  }
  let fallbackUsed = false;
  if ((!out || !out.qc.ok) && fallbackSegmenter) {
    deps.log.warn('trying the fallback segmenter', { job: state.jobKey, segmenter, fallbackSegmenter, why });
    await audit?.event(state.jobKey, state.generation, 'fallback', 'segment', `${why}; trying ${fallbackSegmenter}`);
    out = await deps.segment(v, fallbackSegmenter);
    fallbackUsed = true;
  }
  if (!out) throw new Error('unreachable: no segmentation outcome');
  const model = { name: out.manifest.name, version: out.manifest.version };
  // A contour that failed QC goes on only to a person's review (the review gate stops it before
  // `store`); with review policy 'never' it fails the job here.
  if (!out.qc.ok && (state.plan.review ?? 'on-qc-fail') === 'never') {
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
