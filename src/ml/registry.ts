import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DfaError } from '../core/errors.ts';
import type { ModelManifest } from '../core/model.ts';
import { parseManifest, SHIPPED_MODELS_DIR } from './manifest.ts';

/**
 * The one place that knows which models are installed. A model is identified by its manifest
 * `name` (+ `version`); the folder it sits in under DFA_MODEL_DIR (default: the shipped models/)
 * is only where it lives. The planner's capabilities, the job's segmenters, `dfa segment`,
 * `dfa plan` and the API all resolve models here — never by folder name (that mismatch,
 * `lung-unet-2d` in models/lung-unet/, broke the fallback in production).
 */
export interface InstalledModel {
  readonly manifest: ModelManifest;
  /** The manifest file (the model's other files are beside it). */
  readonly manifestPath: string;
}

export interface ModelRegistry {
  readonly dir: string;
  /** Sorted by name, then version. */
  readonly models: readonly InstalledModel[];
  /** Folders that hold no valid manifest, or a second model of the same name@version (not used). */
  readonly problems: readonly string[];
}

/** What a kind means when the shipped model of that kind is installed beside others (by manifest name). */
const SHIPPED_OF_KIND: Readonly<Record<string, string>> = { classical: 'classical-lung', onnx: 'lung-unet-2d' };

/** DFA_MODEL_DIR, or the shipped models/ directory. */
export function modelDirOf(cfg: { readonly DFA_MODEL_DIR?: string | undefined }): string {
  return cfg.DFA_MODEL_DIR ?? fileURLToPath(SHIPPED_MODELS_DIR);
}

/** Reads every `<dir>/<folder>/manifest.json`; a broken one is listed in `problems`, not fatal. */
export async function loadModelRegistry(dir: string): Promise<ModelRegistry> {
  let folders: string[];
  try {
    folders = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (e) {
    throw new DfaError('MODEL_INVALID', `no model directory at ${dir} (DFA_MODEL_DIR)`, { cause: e, details: { dir } });
  }
  const models: InstalledModel[] = [];
  const problems: string[] = [];
  for (const folder of folders) {
    const manifestPath = join(dir, folder, 'manifest.json');
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch {
      problems.push(`${folder}/: no manifest.json`);
      continue;
    }
    try {
      const manifest = parseManifest(JSON.parse(text) as unknown, manifestPath);
      const twin = models.find((m) => m.manifest.name === manifest.name && m.manifest.version === manifest.version);
      if (twin) problems.push(`${folder}/: ${manifest.name}@${manifest.version} is already installed in ${twin.manifestPath}; ignored`);
      else models.push({ manifest, manifestPath });
    } catch (e) {
      problems.push(`${folder}/manifest.json: ${(e as Error).message}`);
    }
  }
  models.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name) || a.manifest.version.localeCompare(b.manifest.version, undefined, { numeric: true }));
  return { dir, models, problems };
}

/**
 * The installed model a reference names: a manifest name, `name@version`, or a kind ('classical' /
 * 'onnx' = the installed model of that kind: the shipped one if installed, else the first by name).
 * Of several versions of one name, the newest. Not installed → DfaError MODEL_NOT_INSTALLED (exit 2) listing what is.
 */
export function resolveModel(reg: ModelRegistry, ref: string): InstalledModel {
  const m = findModel(reg.models.map((x) => x.manifest), ref);
  if (m) return reg.models.find((x) => x.manifest === m)!;
  throw new DfaError('MODEL_NOT_INSTALLED', `no model '${ref}' is installed in ${reg.dir} (installed: ${describeModels(reg.models.map((x) => x.manifest)) || 'none'})`, {
    details: { model: ref, dir: reg.dir, installed: reg.models.map((x) => `${x.manifest.name}@${x.manifest.version}`) },
  });
}

/** resolveModel's rule on a list of manifests (sorted by name, then version): undefined when none matches. */
export function findModel<M extends ModelManifest>(models: readonly M[], ref: string): M | undefined {
  const [name, version] = ref.split('@');
  const byName = models.filter((m) => m.name === name && (version === undefined || m.version === version));
  if (byName.length > 0) return byName[byName.length - 1];
  if (version !== undefined) return undefined;
  const ofKind = models.filter((m) => m.kind === name);
  return ofKind.find((m) => m.name === SHIPPED_OF_KIND[name]) ?? ofKind[0];
}

/** `name version (kind)` of each installed model, for messages. */
export function describeModels(models: readonly ModelManifest[]): string {
  return models.map((m) => `${m.name} ${m.version} (${m.kind})`).join(', ');
}
