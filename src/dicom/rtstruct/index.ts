export { writeRtstruct, derivedUids, RT_STRUCTURE_SET_STORAGE } from './write.ts';
export type { RtstructInput, RtstructOutput, WrittenObject } from './write.ts';
export { readRtstruct } from './read.ts';
export type { Rtstruct, RtRoi, RtContour, RtstructProblem, RtstructProblemCode } from './read.ts';
export { rtstructToLabelMap } from './to-labelmap.ts';
export type { RtstructMasks } from './to-labelmap.ts';
export { checkSliceGeometry } from './geometry.ts';
