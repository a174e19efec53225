/**
 * The shipped U-Net's manifest file, for tests and training scripts. Models are looked up by
 * manifest name through the model registry (src/ml/registry.ts), never by folder.
 */
import { fileURLToPath } from 'node:url';
import { SHIPPED_MODELS_DIR } from '../manifest.ts';

/** The shipped lung U-Net (models/lung-unet). */
export const LUNG_UNET_MANIFEST_PATH = fileURLToPath(new URL('lung-unet/manifest.json', SHIPPED_MODELS_DIR));
