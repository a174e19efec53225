export { loadVolume, loadVolumeWithReport, loadVolumeFromDir, volumeFromSeries, listDicomFiles, readInstances } from './load-volume.ts';
export type { LoadVolumeOptions, VolumeLoadReport, UnreadableFile } from './load-volume.ts';
export { groupSeries, selectImageSeries, instanceRejection, SOP } from './series.ts';
export type { SeriesGroup, SeriesSelection, SkippedSeries } from './series.ts';
export { stackGeometry } from './stack-geometry.ts';
export { framesOf } from './frames.ts';
export type { FrameInfo } from './frames.ts';
