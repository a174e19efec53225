export { generateChestPhantom, phantomUids, paintTissues } from './generate.ts';
export type { ChestPhantom, PhantomUids } from './generate.ts';
export { writePhantomSeries, encodeSlice, truthVolumesMl } from './write-series.ts';
export type { WrittenPhantom } from './write-series.ts';
export { resolvePhantomOptions, phantomGeometry, axialOrientation } from './options.ts';
export type { PhantomOptions, PatientPosition, PhantomModality, ResolvedPhantomOptions } from './options.ts';
export { TRUTH_STRUCTURES } from './tissues.ts';
