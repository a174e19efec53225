import { need, jobPrefix, type JobNode } from '../context.ts';
import { volumeHostOf } from '../local-volume-host.ts';

export { KEY_IMAGE } from '../preview-artifacts.ts';

/**
 * previews: axial, coronal and sagittal PNGs through the contoured structures, in the lung and the
 * soft-tissue window, and the report's key image, stored as job artifacts (the API serves them; the
 * review gate and the FHIR report use them) — rendered where the volume is (preview-artifacts.ts).
 */
export const renderPreviewsStep: JobNode = async (state, { deps }) => {
  const seg = need(state.seg, 'seg');
  const volumeKey = need(state.volumeRef, 'volumeRef').key;
  const previews = await volumeHostOf(deps).renderPreviews({ volumeKey, labelsKey: seg.key, labels: seg.labels, prefix: `${jobPrefix(state)}/previews` });
  return { previews };
};
