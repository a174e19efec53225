/**
 * RT Structure Set writer (PS3.3 A.19) on dcmjs naturalized datasets. Contours come from the label
 * map (src/geometry/contours); ROI names, colours and codes come from the model manifest, never from here.
 */
import { DfaError } from '../../core/errors.ts';
import type { LabelInfo, ModelManifest } from '../../core/model.ts';
import { deterministicUid } from '../../core/uid.ts';
import type { LabelMap, VolumeInfo } from '../../core/volume.ts';
import { contoursByLabel, type ContourOptions, type PlanarContour } from '../../geometry/contours/index.ts';
import type { NaturalDataset } from '../parse/dcmjs.ts';
import {
  algorithmFamily,
  dicomDateTime,
  encodePart10,
  EQUIPMENT,
  encodeDSList,
  frameOfReference,
  IMPLICIT_VR_LITTLE_ENDIAN,
  patientAndStudy,
  text,
} from './common.ts';
import { checkSliceGeometry } from './geometry.ts';

export const RT_STRUCTURE_SET_STORAGE = '1.2.840.10008.5.1.4.1.1.481.3';
/** PS3.3 C.8.8.5.3: RT Referenced Study refers to the study with the Detached Study Management SOP Class. */
const DETACHED_STUDY_MANAGEMENT = '1.2.840.10008.3.1.2.3.1';

export interface RtstructInput {
  /** The CT the labels were made on (geometry + the slices to reference). */
  readonly volume: VolumeInfo;
  /** Label map on the volume's grid; values as in manifest.labels. */
  readonly labels: LabelMap;
  readonly manifest: ModelManifest;
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  /** Creation time written to the object (default: now). */
  readonly now?: Date;
  readonly contour?: ContourOptions;
  /**
   * Who made the contours when not the manifest's model (PS3.3 C.8.8.5: ROI Generation Algorithm
   * AUTOMATIC / SEMIAUTOMATIC / MANUAL) — e.g. ground-truth masks. Default: AUTOMATIC by the model.
   */
  readonly generation?: { readonly algorithm: 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL'; readonly description: string; readonly byModel: boolean };
  /** Mixed into the UIDs (e.g. a hash of the contours) so different contour sets never share UIDs. */
  readonly uidSalt?: string;
}

export interface WrittenObject {
  readonly part10: Uint8Array;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export interface RtstructOutput extends WrittenObject {
  /** Per ROI name: number of contours and points written (0 for an empty label). */
  readonly stats: Readonly<Record<string, { contours: number; points: number }>>;
}

/** UIDs for our outputs: the same (source series, model, version) always gives the same UIDs. */
export function derivedUids(sourceSeriesUid: string, manifest: ModelManifest, kind: 'RTSTRUCT' | 'SEG'): {
  seriesInstanceUid: string;
  sopInstanceUid: string;
} {
  return {
    seriesInstanceUid: deterministicUid(sourceSeriesUid, manifest.name, manifest.version, kind),
    sopInstanceUid: deterministicUid(sourceSeriesUid, manifest.name, manifest.version, kind, 'instance'),
  };
}

export function writeRtstruct(input: RtstructInput): RtstructOutput {
  const { volume, labels, manifest } = input;
  const meta = volume.meta;
  checkSliceGeometry(volume, labels);
  if (manifest.labels.length === 0) throw new DfaError('MODEL_INVALID', `model ${manifest.name} declares no labels`);
  const uids = input.uidSalt
    ? {
        seriesInstanceUid: deterministicUid(meta.seriesInstanceUid, input.uidSalt, 'RTSTRUCT'),
        sopInstanceUid: deterministicUid(meta.seriesInstanceUid, input.uidSalt, 'RTSTRUCT', 'instance'),
      }
    : derivedUids(meta.seriesInstanceUid, manifest, 'RTSTRUCT');
  const gen = input.generation ?? { algorithm: 'AUTOMATIC' as const, description: `${manifest.name} ${manifest.version}`, byModel: true };
  const { date, time } = dicomDateTime(input.now ?? new Date());
  const multiFrame = new Set(meta.slices.map((s) => s.sopInstanceUid)).size !== meta.slices.length;

  // PS3.3 C.8.8.5.3 / C.8.8.6: a Contour Image item names the slice (and frame, for multi-frame CT).
  const imageRef = (k: number): NaturalDataset => {
    const s = meta.slices[k];
    return {
      ReferencedSOPClassUID: s.sopClassUid,
      ReferencedSOPInstanceUID: s.sopInstanceUid,
      ...(multiFrame ? { ReferencedFrameNumber: k + 1 } : {}),
    };
  };

  const contours = contoursByLabel(labels, manifest.labels.map((l) => l.value), input.contour);
  const stats: Record<string, { contours: number; points: number }> = {};
  const roiNumber = (l: LabelInfo, i: number): number => (l.value > 0 ? l.value : i + 1);

  const structureSetRois = manifest.labels.map((l, i) => ({
    ROINumber: roiNumber(l, i),
    ReferencedFrameOfReferenceUID: meta.frameOfReferenceUid,
    ROIName: text(l.roiName),
    ROIDescription: text(l.concept.meaning),
    ROIGenerationAlgorithm: gen.algorithm,
    ROIGenerationDescription: text(gen.description),
    // PS3.3 C.8.8.5 / Table 10-19 Algorithm Identification Macro: which model made this ROI (only when one did).
    ...(gen.byModel
      ? {
          ROIDerivationAlgorithmIdentificationSequence: [
            {
              AlgorithmFamilyCodeSequence: [algorithmFamily(manifest)],
              AlgorithmName: text(manifest.name),
              AlgorithmVersion: text(manifest.version),
              AlgorithmSource: EQUIPMENT.manufacturer,
            },
          ],
        }
      : {}),
  }));

  const roiContours = manifest.labels.map((l, i) => {
    const list: PlanarContour[] = contours.get(l.value) ?? [];
    let points = 0;
    const items = list.map((c, n) => {
      const np = c.points.length / 3;
      points += np;
      return {
        ContourNumber: n + 1,
        ContourImageSequence: [imageRef(c.slice)],
        ContourGeometricType: 'CLOSED_PLANAR',
        NumberOfContourPoints: np,
        // Encoded once, straight to bytes: the same DS bytes as a list of values (PS3.5 6.4 value multiplicity).
        ContourData: encodeDSList(c.points),
      };
    });
    stats[l.roiName] = { contours: items.length, points };
    return {
      ReferencedROINumber: roiNumber(l, i),
      ROIDisplayColor: [...l.color],
      // Type 3: omitted for an empty label rather than written empty.
      ...(items.length > 0 ? { ContourSequence: items } : {}),
    };
  });

  const observations = manifest.labels.map((l, i) => ({
    ObservationNumber: i + 1,
    ReferencedROINumber: roiNumber(l, i),
    ROIObservationLabel: text(l.roiName, 16),
    // PS3.3 C.8.8.8: RT ROI Identification Code Sequence carries the structure's coded concept.
    RTROIIdentificationCodeSequence: [
      { CodeValue: l.concept.code, CodingSchemeDesignator: l.concept.scheme, CodeMeaning: text(l.concept.meaning) },
    ],
    RTROIInterpretedType: 'ORGAN',
    ROIInterpreter: '',
  }));

  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: RT_STRUCTURE_SET_STORAGE,
    SOPInstanceUID: uids.sopInstanceUid,
    ...patientAndStudy(meta),
    ...frameOfReference(meta),
    // RT Series (PS3.3 C.8.8.1): a new series of its own.
    Modality: 'RTSTRUCT',
    SeriesInstanceUID: uids.seriesInstanceUid,
    SeriesNumber: input.seriesNumber ?? 901,
    SeriesDescription: text(input.seriesDescription ?? (gen.byModel ? `${manifest.name} ${manifest.version} contours` : gen.description)),
    SeriesDate: date,
    SeriesTime: time,
    OperatorsName: '',
    // General Equipment (PS3.3 C.7.5.1)
    Manufacturer: EQUIPMENT.manufacturer,
    ManufacturerModelName: text(gen.byModel ? manifest.name : 'dicom-fhir-agent'),
    SoftwareVersions: text(EQUIPMENT.softwareVersion),
    // Structure Set (PS3.3 C.8.8.5)
    InstanceNumber: 1,
    StructureSetLabel: text(gen.byModel ? manifest.name : gen.algorithm, 16),
    StructureSetName: text(gen.byModel ? `${manifest.name} ${manifest.version}` : gen.description),
    StructureSetDate: date,
    StructureSetTime: time,
    ReferencedFrameOfReferenceSequence: [
      {
        FrameOfReferenceUID: meta.frameOfReferenceUid,
        RTReferencedStudySequence: [
          {
            ReferencedSOPClassUID: DETACHED_STUDY_MANAGEMENT,
            ReferencedSOPInstanceUID: meta.studyInstanceUid,
            RTReferencedSeriesSequence: [
              {
                SeriesInstanceUID: meta.seriesInstanceUid,
                // Every CT slice, so a planning system can check it has the whole image set.
                ContourImageSequence: meta.slices.map((_, k) => imageRef(k)),
              },
            ],
          },
        ],
      },
    ],
    StructureSetROISequence: structureSetRois,
    ROIContourSequence: roiContours,
    RTROIObservationsSequence: observations,
  };
  return { part10: encodePart10(dataset, IMPLICIT_VR_LITTLE_ENDIAN), ...uids, stats };
}
