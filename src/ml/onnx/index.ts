export { createOnnxSegmenter, type OnnxSegmenter, type OnnxSegmenterOptions } from './onnx-segmenter.ts';
export { loadOnnxManifest, parseOnnxManifest, baseManifest, type OnnxManifest } from './manifest.ts';
export { modelGrid, resampleLinear, resampleNearest } from './model-grid.ts';
export { LUNG_UNET_MANIFEST_PATH } from './shipped.ts';
