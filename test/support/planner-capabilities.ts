import type { LabelInfo, ModelManifest } from '../../src/core/model.ts';
import { SCT_ANATOMICAL_STRUCTURE } from '../../src/core/model.ts';
import type { Capabilities } from '../../src/agent/planner/capabilities.ts';

/** Planner test capabilities: a classical and an ONNX lung model for CT (as shipped). */
const lungLabels: LabelInfo[] = [
  { value: 1, roiName: 'Lung_L', color: [0, 160, 255], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  { value: 2, roiName: 'Lung_R', color: [255, 160, 0], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
];
export const CLASSICAL: ModelManifest = { name: 'classical-lung', version: '1.0.0', kind: 'classical', modality: 'CT', bodyPart: 'CHEST', labels: lungLabels };
export const UNET: ModelManifest = { name: 'lung-unet', version: '1.0.0', kind: 'onnx', modality: 'CT', bodyPart: 'CHEST', labels: lungLabels };
export const TEST_CAPS: Capabilities = { models: [CLASSICAL, UNET] };
