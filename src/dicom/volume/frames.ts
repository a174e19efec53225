import type { Vec3 } from '../../core/volume.ts';
import { item, items, num, nums, str, vec3 } from '../parse/attributes.ts';
import type { NaturalDataset } from '../parse/dcmjs.ts';
import { frameCount } from '../parse/pixels.ts';
import type { ParsedDicom } from '../parse/read-part10.ts';

/** Geometry and value mapping of one image frame: a slice of a classic series or one frame of an Enhanced image. */
export interface FrameInfo {
  readonly instance: ParsedDicom;
  /** 0-based frame index inside the instance (0 for single-frame images). */
  readonly frameIndex: number;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly position?: Vec3; // ImagePositionPatient
  readonly orientation?: readonly [Vec3, Vec3]; // ImageOrientationPatient row, column
  readonly pixelSpacing?: readonly [number, number]; // [between rows, between columns]
  readonly sliceThickness?: number;
  readonly slope: number;
  readonly intercept: number;
  readonly frameOfReferenceUid?: string;
}

function orientationOf(ds: NaturalDataset | undefined, key = 'ImageOrientationPatient'): [Vec3, Vec3] | undefined {
  if (!ds) return undefined;
  const v = nums(ds, key);
  if (!v || v.length !== 6) return undefined;
  return [
    [v[0], v[1], v[2]],
    [v[3], v[4], v[5]],
  ];
}

function spacingOf(ds: NaturalDataset | undefined): [number, number] | undefined {
  if (!ds) return undefined;
  const v = nums(ds, 'PixelSpacing');
  return v && v.length === 2 && v[0] > 0 && v[1] > 0 ? [v[0], v[1]] : undefined;
}

/** Functional group attributes of one frame, per-frame overriding shared (PS3.3 C.7.6.16). */
function functionalGroup(shared: NaturalDataset | undefined, perFrame: NaturalDataset | undefined, seq: string): NaturalDataset | undefined {
  return item(perFrame, seq) ?? item(shared, seq);
}

/** Every frame of an instance with its geometry: classic single-frame or Enhanced multi-frame. */
export function framesOf(p: ParsedDicom): FrameInfo[] {
  const ds = p.dataset;
  const base = {
    instance: p,
    sopInstanceUid: str(ds, 'SOPInstanceUID') ?? '',
    sopClassUid: str(ds, 'SOPClassUID') ?? str(p.meta, 'MediaStorageSOPClassUID') ?? '',
    rows: num(ds, 'Rows') ?? 0,
    columns: num(ds, 'Columns') ?? 0,
    frameOfReferenceUid: str(ds, 'FrameOfReferenceUID'),
  };
  const perFrame = items(ds, 'PerFrameFunctionalGroupsSequence');
  const shared = item(ds, 'SharedFunctionalGroupsSequence');
  const nFrames = frameCount(p, { zeroAsOne: true }); // checked against the bytes present before it sizes anything
  if (perFrame.length === 0 && !shared) {
    const spacing = spacingOf(ds);
    return Array.from({ length: nFrames }, (_, k) => ({
      ...base,
      frameIndex: k,
      // A classic multi-frame image without functional groups has one position only (frame 0).
      position: k === 0 ? vec3(ds, 'ImagePositionPatient') : undefined,
      orientation: orientationOf(ds),
      pixelSpacing: spacing,
      sliceThickness: num(ds, 'SliceThickness'),
      slope: num(ds, 'RescaleSlope') ?? 1,
      intercept: num(ds, 'RescaleIntercept') ?? 0,
    }));
  }
  // Enhanced CT/MR (PS3.3 A.38, C.7.6.16.2): geometry and rescale live in functional groups.
  const out: FrameInfo[] = [];
  for (let k = 0; k < nFrames; k++) {
    const pf = perFrame[k];
    const pos = functionalGroup(shared, pf, 'PlanePositionSequence');
    const ori = functionalGroup(shared, pf, 'PlaneOrientationSequence');
    const meas = functionalGroup(shared, pf, 'PixelMeasuresSequence');
    const pvt = functionalGroup(shared, pf, 'PixelValueTransformationSequence');
    out.push({
      ...base,
      frameIndex: k,
      position: pos ? vec3(pos, 'ImagePositionPatient') : undefined,
      orientation: orientationOf(ori),
      pixelSpacing: spacingOf(meas),
      sliceThickness: meas ? num(meas, 'SliceThickness') : undefined,
      slope: (pvt && num(pvt, 'RescaleSlope')) ?? num(ds, 'RescaleSlope') ?? 1,
      intercept: (pvt && num(pvt, 'RescaleIntercept')) ?? num(ds, 'RescaleIntercept') ?? 0,
    });
  }
  return out;
}
