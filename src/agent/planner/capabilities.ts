import type { ModelManifest } from '../../core/model.ts';
import { loadModelRegistry } from '../../ml/registry.ts';

/** What this installation can do: the installed models (from the model registry, src/ml/registry.ts). */
export interface Capabilities {
  readonly models: readonly ModelManifest[];
}

/** The installed models under `modelsDir` (DFA_MODEL_DIR or the shipped models/); a broken manifest is a warning line. */
export async function loadCapabilities(modelsDir: string, warn: (m: string) => void = () => {}): Promise<Capabilities> {
  const reg = await loadModelRegistry(modelsDir);
  for (const p of reg.problems) warn(p);
  return { models: reg.models.map((m) => m.manifest) };
}

/** ROI names any installed model for this modality produces. */
export function structuresFor(caps: Capabilities, modality: string): Set<string> {
  const out = new Set<string>();
  for (const m of caps.models) if (m.modality.toUpperCase() === modality.toUpperCase()) for (const l of m.labels) out.add(l.roiName);
  return out;
}

export function modalitiesOf(caps: Capabilities): Set<string> {
  return new Set(caps.models.map((m) => m.modality.toUpperCase()));
}
