import { DfaError } from '../../core/errors.ts';
import { cross, type Vec3, type VolumeGeometry } from '../../core/volume.ts';

export type PatientPosition = 'HFS' | 'FFS' | 'HFP' | 'FFP';
export type PhantomModality = 'CT' | 'MR';
/** Air that is not lung (abnormal.ts): colon and small-bowel gas, a large gastric bubble, free intraperitoneal air. */
export type PhantomTrap = 'bowel-gas' | 'gastric-bubble' | 'free-air';
/** Lung disease (abnormal.ts): all inside the lung truth except the effusion, which must stay outside. */
export type PhantomPathology = 'consolidation' | 'consolidation-left' | 'atelectasis' | 'tumour' | 'ggo' | 'bullae' | 'effusion';
export const PHANTOM_TRAPS: readonly PhantomTrap[] = ['bowel-gas', 'gastric-bubble', 'free-air'];
export const PHANTOM_PATHOLOGY: readonly PhantomPathology[] = ['consolidation', 'consolidation-left', 'atelectasis', 'tumour', 'ggo', 'bullae', 'effusion'];

export interface PhantomOptions {
  /** Matrix (rows = columns), up to 512. Default 256. */
  readonly size?: number;
  /** Number of slices, up to 600. Default 120. */
  readonly slices?: number;
  /** Pixel spacing in mm. Default: a 400 mm field of view. */
  readonly pixelSpacing?: number;
  /** Slice spacing (= SliceThickness) in mm. Default: 360 mm of coverage, at least 1.25 mm. */
  readonly sliceSpacing?: number;
  readonly patientPosition?: PatientPosition;
  /** Tilt the slice plane about the patient's left-right axis by this many degrees (oblique axial). */
  readonly obliqueDeg?: number;
  /** Lungs touch at the anterior junction line (the segmenter must split them). */
  readonly anteriorJunction?: boolean;
  /** LPS z (mm) of the scan's centre: 0 = mid-chest; about −200 gives an abdomen slab with the lung bases. Default 0. */
  readonly centreZ?: number;
  readonly traps?: readonly PhantomTrap[];
  readonly pathology?: readonly PhantomPathology[];
  readonly seed?: number;
  /** Standard deviation of Gaussian image noise (HU for CT). Default 12. */
  readonly noise?: number;
  readonly modality?: PhantomModality;
  readonly patientId?: string;
  readonly patientName?: string;
  readonly studyInstanceUid?: string;
  readonly accessionNumber?: string;
  readonly studyDescription?: string;
  readonly studyDate?: string; // YYYYMMDD
}

/** Options with defaults applied. */
export type ResolvedPhantomOptions = Required<Omit<PhantomOptions, 'studyInstanceUid' | 'accessionNumber'>> &
  Pick<PhantomOptions, 'studyInstanceUid' | 'accessionNumber'>;

export function resolvePhantomOptions(o: PhantomOptions = {}): ResolvedPhantomOptions {
  const size = o.size ?? 256;
  const slices = o.slices ?? 120;
  if (!Number.isInteger(size) || size < 16 || size > 512) throw new DfaError('CONFIG_INVALID', `phantom size ${size}: must be an integer 16..512`);
  if (!Number.isInteger(slices) || slices < 1 || slices > 600) throw new DfaError('CONFIG_INVALID', `phantom slices ${slices}: must be an integer 1..600`);
  const pixelSpacing = o.pixelSpacing ?? 400 / size;
  const sliceSpacing = o.sliceSpacing ?? Math.max(1.25, 360 / slices);
  if (!(pixelSpacing > 0) || !(sliceSpacing > 0)) throw new DfaError('CONFIG_INVALID', 'phantom spacings must be positive');
  const patientPosition = o.patientPosition ?? 'HFS';
  if (!['HFS', 'FFS', 'HFP', 'FFP'].includes(patientPosition)) throw new DfaError('CONFIG_INVALID', `patient position ${String(patientPosition)}: use HFS, FFS, HFP or FFP`);
  const modality = o.modality ?? 'CT';
  if (modality !== 'CT' && modality !== 'MR') throw new DfaError('CONFIG_INVALID', `phantom modality ${String(modality)}: use CT or MR`);
  return {
    size,
    slices,
    pixelSpacing,
    sliceSpacing,
    patientPosition,
    obliqueDeg: o.obliqueDeg ?? 0,
    anteriorJunction: o.anteriorJunction ?? false,
    centreZ: o.centreZ ?? 0,
    traps: checkList('trap', o.traps ?? [], PHANTOM_TRAPS),
    pathology: checkList('pathology', o.pathology ?? [], PHANTOM_PATHOLOGY),
    seed: o.seed ?? 1,
    noise: o.noise ?? 12,
    modality,
    patientId: o.patientId ?? 'PHANTOM-1',
    patientName: o.patientName ?? 'Phantom^Chest',
    studyInstanceUid: o.studyInstanceUid,
    accessionNumber: o.accessionNumber,
    studyDescription: o.studyDescription ?? 'CT CHEST (synthetic phantom)',
    studyDate: o.studyDate ?? '20260101',
  };
}

function checkList<T extends string>(what: string, v: readonly T[], allowed: readonly T[]): readonly T[] {
  for (const x of v) if (!allowed.includes(x)) throw new DfaError('CONFIG_INVALID', `phantom ${what} '${String(x)}': use ${allowed.join(', ')}`);
  return [...new Set(v)];
}

/**
 * Image orientation for an axial scan by patient position (PS3.3 C.7.6.2.1.1, C.7.3.1.1.2):
 * rows run to the patient's left (HFS) or right (FFS, HFP), columns posterior (supine) or
 * anterior (prone), so the table is always at the bottom of the image.
 */
export function axialOrientation(pos: PatientPosition): [Vec3, Vec3] {
  switch (pos) {
    case 'HFS':
      return [[1, 0, 0], [0, 1, 0]];
    case 'FFS':
      return [[-1, 0, 0], [0, 1, 0]];
    case 'HFP':
      return [[-1, 0, 0], [0, -1, 0]];
    case 'FFP':
      return [[1, 0, 0], [0, -1, 0]];
  }
}

/** The phantom's grid: centred on the patient, slices ordered along rowDir × colDir. */
export function phantomGeometry(o: ResolvedPhantomOptions): VolumeGeometry {
  const [row, col0] = axialOrientation(o.patientPosition);
  // Oblique: rotate the column direction about the row (left-right) axis; rows stay along ±x.
  const a = (o.obliqueDeg * Math.PI) / 180;
  const n0 = cross(row, col0);
  const col: Vec3 = [col0[0] * Math.cos(a) + n0[0] * Math.sin(a), col0[1] * Math.cos(a) + n0[1] * Math.sin(a), col0[2] * Math.cos(a) + n0[2] * Math.sin(a)];
  const normal = cross(row, col);
  const centre: Vec3 = [0, 10, o.centreZ];
  const hx = ((o.size - 1) / 2) * o.pixelSpacing;
  const hz = ((o.slices - 1) / 2) * o.sliceSpacing;
  const origin: Vec3 = [0, 1, 2].map((i) => centre[i] - hx * row[i] - hx * col[i] - hz * normal[i]) as unknown as Vec3;
  return {
    dims: [o.size, o.size, o.slices],
    spacing: [o.pixelSpacing, o.pixelSpacing, o.sliceSpacing],
    origin: origin.map((v) => Math.round(v * 1e4) / 1e4) as unknown as Vec3,
    direction: [row, col, normal],
  };
}
