/**
 * Where ONNX model manifests live: DFA_MODEL_DIR (config.DFA_MODEL_DIR) when set, else the shipped
 * models/ directory. A model is a folder `<dir>/<name>/manifest.json` beside its .onnx file.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_MODELS_DIR } from '../manifest.ts';

/** The shipped lung U-Net (models/lung-unet). */
export const LUNG_UNET_MANIFEST_PATH = fileURLToPath(new URL('lung-unet/manifest.json', SHIPPED_MODELS_DIR));

/** Manifest path for a model folder name ('onnx' means the shipped lung U-Net). */
export function onnxManifestPath(name: string, modelDir?: string): string {
  const folder = name === 'onnx' ? 'lung-unet' : name;
  return modelDir === undefined ? fileURLToPath(new URL(`${folder}/manifest.json`, SHIPPED_MODELS_DIR)) : join(modelDir, folder, 'manifest.json');
}
