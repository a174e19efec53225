export { writeSeg, SEGMENTATION_STORAGE } from './write.ts';
export type { SegInput, SegOutput } from './write.ts';
