import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { voxelVolumeMl } from '../../core/volume.ts';
import { encodeNifti } from '../../io/nifti.ts';
import { dcmjs, type NaturalDataset } from '../parse/dcmjs.ts';
import { generateChestPhantom, phantomUids, type ChestPhantom } from './generate.ts';
import type { PhantomOptions } from './options.ts';
import { TRUTH_STRUCTURES } from './tissues.ts';

const IMPLEMENTATION_CLASS_UID = '2.25.167370389117043755374377406637744263512';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** DS values: as precise as fits in 16 characters (PS3.5 6.2), so geometry survives the round trip. */
function ds(v: number): number {
  for (let p = 15; p >= 4; p--) {
    const r = Number(v.toPrecision(p));
    if (String(r).length <= 16) return Object.is(r, -0) ? 0 : r;
  }
  return Math.round(v);
}

function shiftInt16(a: Int16Array, b: number): void {
  for (let i = 0; i < a.length; i++) a[i] += b;
}

/**
 * One slice as a naturalized dataset: CT Image IOD (PS3.3 A.3) or MR Image IOD (A.4) with
 * Patient, General Study, General Series, Frame of Reference, General Equipment, General Image,
 * Image Plane, Image Pixel, CT/MR Image and SOP Common modules.
 */
function sliceDataset(p: ChestPhantom, k: number): NaturalDataset {
  const v = p.volume;
  const o = p.options;
  const m = v.meta;
  const [nx, ny] = v.dims;
  const uids = phantomUids(o);
  const ct = o.modality === 'CT';
  const slice = m.slices[k];
  const perSlice = nx * ny;
  // CT: stored = HU + 1024 with Rescale Intercept −1024 (signed 16-bit); MR: stored as is.
  const stored = new Int16Array(perSlice);
  stored.set(v.data.subarray(k * perSlice, (k + 1) * perSlice));
  if (ct) shiftInt16(stored, 1024);
  const [r, c] = v.direction;
  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 100',
    // PS3.3 C.8.2.1.1.1 (CT) / C.8.3.1.1.1 (MR): value 3 AXIAL is a CT defined term only.
    ImageType: ['ORIGINAL', 'PRIMARY', ct ? 'AXIAL' : 'OTHER'],
    SOPClassUID: slice.sopClassUid,
    SOPInstanceUID: slice.sopInstanceUid,
    StudyDate: o.studyDate,
    SeriesDate: o.studyDate,
    ContentDate: o.studyDate,
    StudyTime: '120000',
    SeriesTime: '120100',
    ContentTime: '120100',
    AccessionNumber: o.accessionNumber ?? '',
    Modality: o.modality,
    Manufacturer: 'dicom-fhir-agent',
    ManufacturerModelName: 'synthetic chest phantom',
    ReferringPhysicianName: '',
    StudyDescription: o.studyDescription,
    SeriesDescription: m.seriesDescription,
    PatientName: [{ Alphabetic: o.patientName }],
    PatientID: o.patientId,
    PatientBirthDate: m.patientBirthDate,
    PatientSex: m.patientSex,
    BodyPartExamined: 'CHEST',
    SliceThickness: ds(v.spacing[2]),
    PatientPosition: o.patientPosition,
    StudyInstanceUID: uids.studyInstanceUid,
    SeriesInstanceUID: uids.seriesInstanceUid,
    StudyID: '1',
    SeriesNumber: ct ? 2 : 3,
    AcquisitionNumber: 1,
    InstanceNumber: k + 1,
    ImagePositionPatient: slice.position.map(ds),
    ImageOrientationPatient: [...r, ...c].map((x) => ds(x)),
    FrameOfReferenceUID: uids.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    SliceLocation: ds(slice.position[2]),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    PixelSpacing: [ds(v.spacing[1]), ds(v.spacing[0])], // PS3.3 C.7.6.2.1.1: row spacing first
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    PixelData: stored.buffer,
    _vrMap: { PixelData: 'OW' },
  };
  if (ct) {
    Object.assign(dataset, { KVP: 120, RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU', ConvolutionKernel: 'STANDARD', WindowCenter: -600, WindowWidth: 1500 });
  } else {
    // MR Image module (PS3.3 C.8.3.1) type 1/2 attributes.
    Object.assign(dataset, {
      ScanningSequence: 'GR',
      SequenceVariant: 'SP',
      ScanOptions: '',
      MRAcquisitionType: '2D',
      RepetitionTime: 500,
      EchoTime: 10,
      EchoTrainLength: 1,
      MagneticFieldStrength: 1.5,
    });
  }
  return dataset;
}

export function encodeSlice(p: ChestPhantom, k: number): Uint8Array {
  const { data } = dcmjs();
  const slice = p.volume.meta.slices[k];
  const meta = data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: slice.sopClassUid,
    MediaStorageSOPInstanceUID: slice.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'DFA_PHANTOM_1',
  });
  const dict = new data.DicomDict(meta);
  dict.dict = data.DicomMetaDictionary.denaturalizeDataset(sliceDataset(p, k));
  return new Uint8Array(dict.write({ allowInvalidVRLength: false }));
}

/** Ground-truth volumes (mL) from one histogram of tissue classes, without building the masks. */
export function truthVolumesMl(p: ChestPhantom): Record<string, number> {
  const hist = new Float64Array(256);
  const t = p.tissues;
  for (let i = 0; i < t.length; i++) hist[t[i]]++;
  const ml = voxelVolumeMl(p.volume);
  const out: Record<string, number> = {};
  for (const [name, members] of Object.entries(TRUTH_STRUCTURES)) {
    out[name] = Math.round(members.reduce<number>((n, m) => n + hist[m], 0) * ml * 10) / 10;
  }
  return out;
}

export interface WrittenPhantom {
  readonly phantom: ChestPhantom;
  readonly dicomDir: string;
  readonly files: readonly string[];
  readonly truthDir: string;
  readonly truthFiles: Readonly<Record<string, string>>;
  /** Ground-truth volumes in mL, keyed by TG-263 name. */
  readonly volumesMl: Readonly<Record<string, number>>;
}

/**
 * Generate a phantom and write it: `<outDir>/dicom/IM000001.dcm…` (Part 10, explicit VR little
 * endian), `<outDir>/truth/<Structure>.nii.gz` (masks on the CT grid; NIfTI RAS affine) and
 * `<outDir>/phantom.json` (options, UIDs, geometry, truth volumes).
 */
export async function writePhantomSeries(opts: PhantomOptions, outDir: string, writeTruth = true): Promise<WrittenPhantom> {
  const phantom = generateChestPhantom(opts);
  const dicomDir = join(outDir, 'dicom');
  const truthDir = join(outDir, 'truth');
  await mkdir(dicomDir, { recursive: true });
  const nz = phantom.volume.dims[2];
  const files = Array.from({ length: nz }, (_, k) => join(dicomDir, `IM${String(k + 1).padStart(6, '0')}.dcm`));
  // Encode while earlier writes are in flight (bounded, so memory stays flat).
  const pending = new Set<Promise<void>>();
  for (let k = 0; k < nz; k++) {
    const w = writeFile(files[k], encodeSlice(phantom, k)).finally(() => pending.delete(w));
    pending.add(w);
    if (pending.size >= 8) await Promise.race(pending);
  }
  await Promise.all(pending);
  const truthFiles: Record<string, string> = {};
  const volumesMl = truthVolumesMl(phantom);
  if (writeTruth) {
    await mkdir(truthDir, { recursive: true });
    for (const [name, mask] of Object.entries(phantom.truth)) {
      truthFiles[name] = join(truthDir, `${name}.nii.gz`);
      await writeFile(truthFiles[name], encodeNifti(phantom.volume, mask, { description: `truth ${name}` }));
    }
  }
  const v = phantom.volume;
  const summary = {
    options: phantom.options,
    studyInstanceUid: v.meta.studyInstanceUid,
    seriesInstanceUid: v.meta.seriesInstanceUid,
    frameOfReferenceUid: v.meta.frameOfReferenceUid,
    geometry: { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction },
    truthVolumesMl: volumesMl,
    truthFiles: Object.fromEntries(Object.entries(truthFiles).map(([k]) => [k, `truth/${k}.nii.gz`])),
  };
  await writeFile(join(outDir, 'phantom.json'), JSON.stringify(summary, null, 2) + '\n');
  return { phantom, dicomDir, files, truthDir, truthFiles, volumesMl };
}
