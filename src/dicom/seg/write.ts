/**
 * DICOM Segmentation writer (PS3.3 A.51, binary): one segment per manifest label, frames bit-packed,
 * one frame per (segment, slice) where that segment is present (empty frames are not written; an
 * all-empty result gets one empty frame so the object stays valid). Geometry is per frame, so
 * oblique and gantry-tilted stacks stay right; names and codes come from the manifest.
 */
import { DfaError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/model.ts';
import type { LabelMap, VolumeInfo } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { labelRuns, type SliceRuns } from '../../geometry/contours/runs.ts';
import type { NaturalDataset } from '../parse/dcmjs.ts';
import {
  algorithmFamily,
  dicomDateTime,
  encodePart10,
  EQUIPMENT,
  EXPLICIT_VR_LITTLE_ENDIAN,
  formatDS,
  frameOfReference,
  patientAndStudy,
  text,
} from '../rtstruct/common.ts';
import { checkSliceGeometry } from '../rtstruct/geometry.ts';
import { derivedUids, type WrittenObject } from '../rtstruct/write.ts';
import { rgbToDicomLab } from './color.ts';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

export interface SegInput {
  readonly volume: VolumeInfo;
  readonly labels: LabelMap;
  readonly manifest: ModelManifest;
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  /** Enhanced General Equipment DeviceSerialNumber (Type 1); default: our product name. */
  readonly deviceSerialNumber?: string;
  readonly now?: Date;
}

export interface SegOutput extends WrittenObject {
  /** Frames written per segment label (ROI name). */
  readonly framesPerSegment: Readonly<Record<string, number>>;
}

const code = (c: { scheme: string; code: string; meaning: string }) => ({
  CodeValue: c.code,
  CodingSchemeDesignator: c.scheme,
  CodeMeaning: text(c.meaning),
});

export function writeSeg(input: SegInput): SegOutput {
  const { volume, labels, manifest } = input;
  const meta = volume.meta;
  checkSliceGeometry(volume, labels);
  if (manifest.labels.length === 0) throw new DfaError('MODEL_INVALID', `model ${manifest.name} declares no labels`);
  const [nx, ny] = volume.dims;
  const uids = derivedUids(meta.seriesInstanceUid, manifest, 'SEG');
  const { date, time } = dicomDateTime(input.now ?? new Date());
  const dimensionOrganizationUid = `${uids.sopInstanceUid}.1`.length <= 64 ? `${uids.sopInstanceUid}.1` : uids.seriesInstanceUid;

  // Which (segment, slice) pairs are non-empty, as row runs: one pass over the label map.
  const plane = nx * ny;
  const runs = labelRuns(labels.data, labels.dims, manifest.labels.map((l) => l.value));
  const frames: { seg: number; k: number; runs?: SliceRuns }[] = [];
  runs.forEach((slices, s) => {
    for (const sr of slices) frames.push({ seg: s, k: sr.k, runs: sr });
  });
  if (frames.length === 0) frames.push({ seg: 0, k: 0 }); // NumberOfFrames must be ≥ 1

  // PS3.5 8.1.1: 1-bit pixels packed little-endian bit order, frames back to back without padding.
  const bits = new Uint8Array(Math.ceil((frames.length * plane) / 8));
  frames.forEach((f, n) => {
    if (!f.runs) return;
    const { y0, rows } = f.runs;
    for (let r = 0; r < rows.length; r++) {
      const base = n * plane + (y0 + r) * nx;
      const row = rows[r];
      for (let i = 0; i < row.length; i += 2) setBits(bits, base + row[i], base + row[i + 1]);
    }
  });

  const sourceRef = (k: number): NaturalDataset => {
    const s = meta.slices[k];
    const multiFrame = meta.slices.length > 1 && meta.slices.every((x) => x.sopInstanceUid === meta.slices[0].sopInstanceUid);
    return {
      ReferencedSOPClassUID: s.sopClassUid,
      ReferencedSOPInstanceUID: s.sopInstanceUid,
      ...(multiFrame ? { ReferencedFrameNumber: k + 1 } : {}),
      // PS3.16 CID 7202: source image for image processing operation.
      PurposeOfReferenceCodeSequence: [{ CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' }],
    };
  };

  const perFrame = frames.map((f) => ({
    DerivationImageSequence: [
      {
        SourceImageSequence: [sourceRef(f.k)],
        DerivationCodeSequence: [{ CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' }],
      },
    ],
    FrameContentSequence: [{ DimensionIndexValues: [f.seg + 1, f.k + 1] }],
    PlanePositionSequence: [{ ImagePositionPatient: indexToPatient(volume, 0, 0, f.k).map(formatDS) }],
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.seg + 1 }],
  }));

  const [r, c] = volume.direction;
  const segments = manifest.labels.map((l, s) => ({
    SegmentNumber: s + 1,
    SegmentLabel: text(l.roiName),
    SegmentDescription: text(l.concept.meaning),
    SegmentAlgorithmType: 'AUTOMATIC',
    SegmentAlgorithmName: text(manifest.name),
    // PS3.3 C.8.20.2: which model made the segment (Algorithm Identification Macro, Table 10-19).
    SegmentationAlgorithmIdentificationSequence: [
      {
        AlgorithmFamilyCodeSequence: [algorithmFamily(manifest)],
        AlgorithmName: text(manifest.name),
        AlgorithmVersion: text(manifest.version),
      },
    ],
    SegmentedPropertyCategoryCodeSequence: [code(l.category)],
    SegmentedPropertyTypeCodeSequence: [code(l.concept)],
    RecommendedDisplayCIELabValue: rgbToDicomLab(l.color),
  }));

  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: uids.sopInstanceUid,
    ...patientAndStudy(meta),
    // General Series + Segmentation Series (PS3.3 C.7.3.1, C.8.20.1)
    Modality: 'SEG',
    SeriesInstanceUID: uids.seriesInstanceUid,
    SeriesNumber: input.seriesNumber ?? 902,
    SeriesDescription: text(input.seriesDescription ?? `${manifest.name} ${manifest.version} segmentation`),
    SeriesDate: date,
    SeriesTime: time,
    ...frameOfReference(meta),
    // General + Enhanced General Equipment (PS3.3 C.7.5.1, C.7.5.2: all four Type 1 there)
    Manufacturer: EQUIPMENT.manufacturer,
    ManufacturerModelName: text(manifest.name),
    DeviceSerialNumber: text(input.deviceSerialNumber ?? EQUIPMENT.manufacturer),
    SoftwareVersions: text(EQUIPMENT.softwareVersion),
    // General Image / Segmentation Image (PS3.3 C.7.6.1, C.8.20.2)
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: contentLabel(manifest.name),
    ContentDescription: text(`${manifest.name} ${manifest.version}`),
    ContentCreatorName: '',
    SegmentationType: 'BINARY',
    SegmentSequence: segments,
    // Image Pixel (PS3.3 C.7.6.3) for a binary segmentation
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    // Multi-frame Functional Groups + Dimension (PS3.3 C.7.6.16, C.7.6.17)
    NumberOfFrames: frames.length,
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: [...r, ...c].map(formatDS) }],
        PixelMeasuresSequence: [
          {
            // PixelSpacing is [row spacing, column spacing] = [spacing[1], spacing[0]].
            PixelSpacing: [formatDS(volume.spacing[1]), formatDS(volume.spacing[0])],
            SliceThickness: formatDS(volume.spacing[2]),
            SpacingBetweenSlices: formatDS(volume.spacing[2]),
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: 0x0062000b, // ReferencedSegmentNumber
        FunctionalGroupPointer: 0x0062000a, // SegmentIdentificationSequence
        DimensionDescriptionLabel: 'Segment Number',
      },
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: 0x00200032, // ImagePositionPatient
        FunctionalGroupPointer: 0x00209113, // PlanePositionSequence
        DimensionDescriptionLabel: 'Image Position Patient',
      },
    ],
    // Common Instance Reference (PS3.3 C.12.2): the CT slices the frames derive from.
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: meta.seriesInstanceUid,
        ReferencedInstanceSequence: uniqueSlices(volume).map((s) => ({
          ReferencedSOPClassUID: s.sopClassUid,
          ReferencedSOPInstanceUID: s.sopInstanceUid,
        })),
      },
    ],
    PixelData: [bits.buffer],
  };
  const framesPerSegment: Record<string, number> = {};
  manifest.labels.forEach((l, s) => (framesPerSegment[l.roiName] = runs[s].length));
  return { part10: encodePart10(dataset, EXPLICIT_VR_LITTLE_ENDIAN), ...uids, framesPerSegment };
}

/** Set bits [from, to) of a little-endian bit array, whole bytes at a time in the middle. */
function setBits(bits: Uint8Array, from: number, to: number): void {
  let b = from;
  while (b < to && (b & 7) !== 0) {
    bits[b >> 3] |= 1 << (b & 7);
    b++;
  }
  const wholeEnd = to & ~7;
  if (b < wholeEnd) {
    bits.fill(0xff, b >> 3, wholeEnd >> 3);
    b = wholeEnd;
  }
  while (b < to) {
    bits[b >> 3] |= 1 << (b & 7);
    b++;
  }
}

function uniqueSlices(volume: VolumeInfo) {
  const seen = new Set<string>();
  return volume.meta.slices.filter((s) => (seen.has(s.sopInstanceUid) ? false : (seen.add(s.sopInstanceUid), true)));
}

/** ContentLabel is a CS (PS3.5 6.2): upper case, digits, space, underscore; at most 16 characters. */
function contentLabel(name: string): string {
  const s = name.toUpperCase().replace(/[^A-Z0-9_ ]+/g, '_').slice(0, 16);
  return s === '' ? 'SEGMENTATION' : s;
}
