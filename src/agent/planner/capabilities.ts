import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../core/model.ts';

/** What this installation can do: the installed models (from their manifests). */
export interface Capabilities {
  readonly models: readonly ModelManifest[];
}

/** The models shipped with the package (models/<name>/manifest.json). */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../../models/', import.meta.url));

/** Reads every `<dir>/<model>/manifest.json`; a broken manifest is skipped with a warning line. */
export async function loadCapabilities(modelsDir: string = SHIPPED_MODELS_DIR, warn: (m: string) => void = () => {}): Promise<Capabilities> {
  const models: ModelManifest[] = [];
  let entries: string[] = [];
  try {
    entries = (await readdir(modelsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    warn(`no models directory at ${modelsDir}`);
  }
  for (const name of entries) {
    try {
      const m = JSON.parse(await readFile(join(modelsDir, name, 'manifest.json'), 'utf8')) as ModelManifest;
      if (m && typeof m.name === 'string' && Array.isArray(m.labels)) models.push(m);
      else warn(`models/${name}/manifest.json is not a model manifest`);
    } catch (e) {
      warn(`cannot read models/${name}/manifest.json: ${(e as Error).message}`);
    }
  }
  return { models };
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
