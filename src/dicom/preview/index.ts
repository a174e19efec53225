export { renderPreviews, KEY_PREVIEW, WINDOWS, type PreviewImage, type PreviewOptions, type WindowName } from './render.ts';
export { resamplePlane, labelCentroids, VIEW_AXES, type ViewName, type ResampledPlane } from './reslice.ts';
