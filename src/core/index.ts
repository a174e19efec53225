export * from './errors.ts';
export * from './volume.ts';
export * from './model.ts';
export * from './uid.ts';
export * from './log.ts';
export * from './config.ts';
export type * from './ports.ts';
