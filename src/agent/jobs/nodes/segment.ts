import { toDfaError } from '../../../core/errors.ts';
import type { SegmentationOutcome } from '../../../core/ports.ts';
import { qcFailures } from '../../../ml/qc.ts';
import { isTransient } from '../retry.ts';
import { jobPrefix, need, type JobNode } from '../context.ts';
import type { JobUpdate } from '../state.ts';
import { volumeHostOf } from '../local-volume-host.ts';
import { keepLabels, loadSavedVolumeInfo } from '../volume-artifacts.ts';

/** The reason a skipped job gives when the scan shows no lung (issue 9). */
export const NO_LUNG_REASON = 'no lung in the field of view';

const failedChecks = (o: SegmentationOutcome) => qcFailures(o.qc).join('; ');
const modelOf = (o: SegmentationOutcome) => `${o.manifest.name} ${o.manifest.version}`;

/**
 * segment: the plan's segmenter, then QC on the CT. When QC fails (or the segmenter cannot run):
 * - the goal named the segmenter (plan.pipeline.segmenterNamed): the job fails with the reason —
 *   never a silent switch to another model (issue 11);
 * - else, with a fallback in the plan, the fallback gets its turn and the result says why.
 * No lung in the field of view (every segmenter tried found none) ends the job skipped, nothing
 * written. Contours that fail QC go to a person's review (the review gate, before `store`) unless the
 * plan's review policy is 'never': then the job fails. A contour that failed QC never reaches the PACS unreviewed.
 */
export const segment: JobNode = async (state, { deps, audit }) => {
  const volumeKey = need(state.volumeRef, 'volumeRef').key;
  const host = volumeHostOf(deps);
  const geometry = await loadSavedVolumeInfo(deps.artifacts, volumeKey);
  // Each attempt's label map is saved where it is made (the volume host): the fallback's beside the first's.
  const firstKey = `${jobPrefix(state)}/labels`;
  const fallbackKey = `${jobPrefix(state)}/labels-fallback`;
  let outKey = firstKey;
  const { segmenter, fallbackSegmenter, segmenterNamed, structures } = state.plan.pipeline;
  const fallback = segmenterNamed ? undefined : fallbackSegmenter;
  let out: SegmentationOutcome | undefined;
  let why = '';
  try {
    out = await host.segment(volumeKey, geometry, segmenter, { labelsKey: firstKey });
    if (out.qc.noLung) why = `${modelOf(out)} found no lung`;
    else if (!out.qc.ok) why = `QC failed for ${modelOf(out)} (${failedChecks(out)})`;
  } catch (e) {
    // A segmenter that cannot run (model file missing, bad input) also hands over to the fallback.
    if (!fallback || isTransient(e)) throw e;
    why = `${segmenter} failed: ${toDfaError(e).message}`;
  }
  let fallbackUsed = false;
  let firstFoundLung = false;
  let first: SegmentationOutcome | undefined;
  if ((!out || !out.qc.ok) && fallback) {
    deps.log.warn('trying the fallback segmenter', { job: state.jobKey, segmenter, fallbackSegmenter: fallback, why });
    await audit?.event(state.jobKey, state.generation, 'fallback', 'segment', `${why}; trying ${fallback}`);
    firstFoundLung = out !== undefined && !out.qc.noLung;
    first = out;
    out = await host.segment(volumeKey, geometry, fallback, { labelsKey: fallbackKey });
    outKey = fallbackKey;
    fallbackUsed = true;
  }
  if (!out) throw new Error('unreachable: no segmentation outcome');
  // Skipped only when no segmenter that ran saw any lung; one that did makes it a QC failure.
  if (out.qc.noLung && !firstFoundLung) {
    return { outcome: { status: 'skipped', step: 'segment', reason: NO_LUNG_REASON } };
  }
  if (!out.qc.ok && (state.plan.review ?? 'on-qc-fail') !== 'never') {
    // For review: the contours that found lung (the first segmenter's when the fallback found none).
    if (out.qc.noLung && first && !first.qc.noLung) {
      out = first;
      outKey = firstKey;
    }
    deps.log.info('contours failed QC: they wait for review before anything is stored', { job: state.jobKey, model: modelOf(out) });
  } else if (!out.qc.ok) {
    const reason = segmenterNamed
      ? `${why}; the goal named this segmenter, so no other model was tried`
      : fallbackUsed
        ? `${why}; fallback ${modelOf(out)} also failed${out.qc.noLung ? ': it found no lung' : ` QC (${failedChecks(out)})`}`
        : `${why}; no fallback segmenter installed`;
    return { outcome: { status: 'failed', step: 'segment', reason } };
  }
  const model = { name: out.manifest.name, version: out.manifest.version };
  const missing = structures.filter((s) => !out.manifest.labels.some((l) => l.roiName === s));
  if (missing.length > 0) {
    return { outcome: { status: 'failed', step: 'segment', reason: `model ${model.name} has no ${missing.join(', ')}` } };
  }
  const key = outKey;
  keepLabels(key, out.labels);
  const labels = out.manifest.labels.filter((l) => structures.includes(l.roiName));
  const volumesMl = Object.fromEntries(Object.entries(out.volumesMl).filter(([k]) => structures.includes(k)));
  const coverage = Object.fromEntries(Object.entries(out.qc.coverage ?? {}).filter(([k]) => structures.includes(k)));
  await audit?.event(state.jobKey, state.generation, 'qc', 'segment', qcSummary(out, coverage), { coverage, limits: out.qc.limits, checks: out.qc.checks });
  const update: JobUpdate = {
    seg: { key, model, manifest: out.manifest, labels, volumesMl, qc: out.qc, fallbackUsed, coverage, ...(fallbackUsed ? { fallbackReason: why } : {}) },
  };
  return update;
};

/** One line for the audit: who produced the contours, what each structure's coverage is, which limits. */
function qcSummary(o: SegmentationOutcome, coverage: Readonly<Record<string, string>>): string {
  const cov = Object.entries(coverage).map(([k, c]) => `${k} ${c}`).join(', ');
  return `QC passed for ${modelOf(o)}; coverage: ${cov || 'n/a'}; ${o.qc.limits?.basis ?? 'default limits'}`;
}
