import { renderPreviews } from '../../../dicom/preview/index.ts';
import { jobPrefix, need, type JobNode } from '../context.ts';
import type { PreviewRef } from '../state.ts';
import { loadSavedLabels, loadSavedVolume } from '../volume-artifacts.ts';

/** The report's key image: the coronal lung-window view, 256 px. */
export const KEY_IMAGE = 'key-coronal-lung';

/**
 * previews: axial, coronal and sagittal PNGs through the contoured structures, in the lung and the
 * soft-tissue window, stored as job artifacts (the API serves them; the review gate and the FHIR
 * report use them). Deterministic, so a re-executed step writes the same files.
 */
export const renderPreviewsStep: JobNode = async (state, { deps }) => {
  const seg = need(state.seg, 'seg');
  const v = await loadSavedVolume(deps.artifacts, need(state.volumeRef, 'volumeRef').key, deps.loadVolume);
  const labels = await loadSavedLabels(deps.artifacts, seg.key);
  const refs: PreviewRef[] = [];
  for (const p of renderPreviews(v, labels, seg.labels)) {
    const key = `${jobPrefix(state)}/previews/${p.name}.png`;
    await deps.artifacts.put(key, p.png);
    refs.push({ name: p.name, key, width: p.width, height: p.height });
  }
  // A smaller copy of the key view for the FHIR DiagnosticReport (presentedForm travels inline).
  const [key] = renderPreviews(v, labels, seg.labels, { views: ['coronal'], windows: ['lung'], maxSide: 256 });
  const keyRef = `${jobPrefix(state)}/previews/${KEY_IMAGE}.png`;
  await deps.artifacts.put(keyRef, key.png);
  refs.push({ name: KEY_IMAGE, key: keyRef, width: key.width, height: key.height });
  return { previews: refs };
};
