import type { LabelInfo } from '../../core/model.ts';
import type { ArtifactStore, StoredPreview } from '../../core/ports.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import { renderPreviews } from '../../dicom/preview/index.ts';

/** The report's key image: the coronal lung-window view, 256 px. */
export const KEY_IMAGE = 'key-coronal-lung';

/**
 * A job's previews as artifacts: axial, coronal and sagittal PNGs through the contoured structures,
 * in the lung and the soft-tissue window, plus the smaller key image the FHIR DiagnosticReport
 * carries inline — written under `prefix`. Deterministic, so a re-executed step writes the same
 * files. Runs where the volume is: in the agent, or in a remote ml_processor (VolumeHost).
 */
export async function savePreviews(store: ArtifactStore, prefix: string, v: Volume, labels: LabelMap, info: readonly LabelInfo[]): Promise<StoredPreview[]> {
  const refs: StoredPreview[] = [];
  for (const p of renderPreviews(v, labels, info)) {
    const key = `${prefix}/${p.name}.png`;
    await store.put(key, p.png);
    refs.push({ name: p.name, key, width: p.width, height: p.height });
  }
  const [small] = renderPreviews(v, labels, info, { views: ['coronal'], windows: ['lung'], maxSide: 256 });
  const key = `${prefix}/${KEY_IMAGE}.png`;
  await store.put(key, small!.png);
  refs.push({ name: KEY_IMAGE, key, width: small!.width, height: small!.height });
  return refs;
}
