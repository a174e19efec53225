export { readDicomFile, readDicomHeader, withPixelData, parseDicom, MAX_DICOM_FILE_BYTES } from './read-part10.ts';
export type { ParsedDicom } from './read-part10.ts';
export { decodeFrames, pixelFormat, hasPixelData, frameCount } from './pixels.ts';
export type { PixelFormat, FrameSamples } from './pixels.ts';
export { transferSyntaxInfo, transferSyntaxName, isNativeSyntax, TS } from './transfer-syntax.ts';
export { str, strs, num, nums, vec3, personName, item, items } from './attributes.ts';
export { dcmjs } from './dcmjs.ts';
export type { NaturalDataset, DcmjsApi, DcmjsDict } from './dcmjs.ts';
