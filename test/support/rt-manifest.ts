import type { ModelManifest } from '../../src/core/model.ts';
import { SCT_ANATOMICAL_STRUCTURE } from '../../src/core/model.ts';

/** A test model manifest (the writers take every name, colour and code from a manifest like this). */
export const TEST_LUNG_MANIFEST: ModelManifest = {
  name: 'test-lung',
  version: '0.0.1',
  kind: 'classical',
  modality: 'CT',
  bodyPart: 'CHEST',
  labels: [
    { value: 1, roiName: 'Lung_L', color: [255, 200, 0], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
    { value: 2, roiName: 'Lung_R', color: [0, 160, 255], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  ],
};
