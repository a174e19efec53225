/**
 * RT Structure Set reader: ROIs and their contours in patient coordinates (LPS mm), plus every
 * problem found on the way as a value (POINT contours, empty ROIs, dangling references...). Only a
 * file that is not an RTSTRUCT at all is a DfaError('RTSTRUCT_INVALID').
 */
import { DfaError } from '../../core/errors.ts';
import type { Vec3 } from '../../core/volume.ts';
import type { NaturalDataset } from '../parse/dcmjs.ts';
import { parseDicom } from '../parse/read-part10.ts';
import { RT_STRUCTURE_SET_STORAGE } from './write.ts';

export type RtstructProblemCode =
  | 'EMPTY_ROI' // declared, no contours
  | 'POINT_CONTOUR' // POINT / OPEN_* contours: kept, but they enclose nothing
  | 'BAD_CONTOUR_DATA' // ContourData missing, not triples, or disagreeing with NumberOfContourPoints
  | 'ROI_WITHOUT_CONTOUR_ITEM' // in StructureSetROISequence, absent from ROIContourSequence
  | 'CONTOUR_FOR_UNKNOWN_ROI' // ROIContourSequence item naming an undeclared ROI number
  | 'NO_REFERENCED_SERIES' // ReferencedFrameOfReferenceSequence names no study / series / images
  | 'SERIES_MISMATCH' // (with a volume) drawn on another series than the volume's
  | 'UNLISTED_REFERENCE' // contour references an image the structure set's own image list lacks
  | 'NON_EXISTENT_REFERENCE' // (with a volume) referenced image is not in the series
  | 'INVALID_REFERENCE' // (with a volume) referenced image is not the slice the contour lies on
  | 'NOT_ON_A_SLICE' // (with a volume) contour is not in the plane of any slice
  | 'FRAME_OF_REFERENCE_MISMATCH'; // (with a volume) ROI is in another frame of reference

export interface RtstructProblem {
  readonly code: RtstructProblemCode;
  readonly roi?: string;
  readonly message: string;
}

export interface RtContour {
  /** ContourGeometricType: CLOSED_PLANAR, OPEN_PLANAR, OPEN_NONPLANAR or POINT (PS3.3 C.8.8.6.1). */
  readonly type: string;
  readonly points: Vec3[];
  readonly referencedSopInstanceUid?: string;
  readonly referencedFrameNumber?: number;
}

export interface RtRoi {
  readonly number: number;
  readonly name: string;
  readonly color?: readonly [number, number, number];
  readonly frameOfReferenceUid?: string;
  readonly generationAlgorithm?: string;
  readonly interpretedType?: string;
  readonly contours: RtContour[];
}

export interface Rtstruct {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid?: string;
  readonly studyInstanceUid?: string;
  readonly patientId?: string;
  readonly label?: string;
  /** Series the structure set says it was drawn on, and every image it lists. */
  readonly referencedSeriesUids: string[];
  readonly referencedImageUids: string[];
  readonly rois: RtRoi[];
  readonly problems: RtstructProblem[];
}

const seq = (v: unknown): NaturalDataset[] => (Array.isArray(v) ? (v as NaturalDataset[]) : []);
const str = (v: unknown): string | undefined => {
  if (v === undefined || v === null) return undefined;
  const s = String(Array.isArray(v) ? v[0] : v).replace(/[\0\s]+$/, '');
  return s === '' ? undefined : s;
};

export function readRtstruct(bytes: Uint8Array, source = '<buffer>'): Rtstruct {
  let ds: NaturalDataset;
  try {
    // parseDicom also reads bare datasets without a Part 10 header (pydicom_rtstruct.dcm is one).
    ds = parseDicom(bytes, source).dataset;
  } catch (e) {
    throw new DfaError('RTSTRUCT_INVALID', `${source}: not a readable DICOM file (${(e as Error).message})`, { cause: e, details: { file: source } });
  }
  const sopClass = str(ds.SOPClassUID);
  if (sopClass !== RT_STRUCTURE_SET_STORAGE && str(ds.Modality) !== 'RTSTRUCT') {
    throw new DfaError('RTSTRUCT_INVALID', `${source}: not an RT Structure Set (SOP Class ${sopClass ?? 'missing'}, Modality ${str(ds.Modality) ?? 'missing'})`, {
      details: { file: source },
    });
  }
  if (!Array.isArray(ds.StructureSetROISequence)) {
    throw new DfaError('RTSTRUCT_INVALID', `${source}: RT Structure Set without StructureSetROISequence (PS3.3 C.8.8.5, Type 1)`, { details: { file: source } });
  }
  const problems: RtstructProblem[] = [];

  // PS3.3 C.8.8.5: Referenced Frame of Reference → RT Referenced Study → Series → Contour Image.
  const referencedSeriesUids: string[] = [];
  const referencedImageUids: string[] = [];
  for (const f of seq(ds.ReferencedFrameOfReferenceSequence))
    for (const st of seq(f.RTReferencedStudySequence))
      for (const se of seq(st.RTReferencedSeriesSequence)) {
        const uid = str(se.SeriesInstanceUID);
        if (uid) referencedSeriesUids.push(uid);
        for (const im of seq(se.ContourImageSequence)) {
          const r = str(im.ReferencedSOPInstanceUID);
          if (r) referencedImageUids.push(r);
        }
      }
  const listed = new Set(referencedImageUids);
  if (referencedSeriesUids.length === 0) {
    problems.push({
      code: 'NO_REFERENCED_SERIES',
      message: 'ReferencedFrameOfReferenceSequence names no referenced study/series (PS3.3 C.8.8.5): the image set it was drawn on is unknown',
    });
  }

  const rois = new Map<number, { roi: RtRoi; seen: boolean }>();
  for (const item of seq(ds.StructureSetROISequence)) {
    const number = Number(item.ROINumber);
    const name = str(item.ROIName) ?? `ROI ${number}`;
    rois.set(number, {
      roi: {
        number,
        name,
        frameOfReferenceUid: str(item.ReferencedFrameOfReferenceUID),
        generationAlgorithm: str(item.ROIGenerationAlgorithm),
        contours: [],
      },
      seen: false,
    });
  }
  for (const obs of seq(ds.RTROIObservationsSequence)) {
    const e = rois.get(Number(obs.ReferencedROINumber));
    if (e) (e.roi as { interpretedType?: string }).interpretedType = str(obs.RTROIInterpretedType);
  }
  for (const rc of seq(ds.ROIContourSequence)) {
    const number = Number(rc.ReferencedROINumber);
    const e = rois.get(number);
    if (!e) {
      problems.push({ code: 'CONTOUR_FOR_UNKNOWN_ROI', message: `ROIContourSequence names ROI number ${number}, which StructureSetROISequence does not declare` });
      continue;
    }
    e.seen = true;
    const color = Array.isArray(rc.ROIDisplayColor) ? rc.ROIDisplayColor.map(Number) : undefined;
    if (color && color.length === 3) (e.roi as { color?: readonly [number, number, number] }).color = [color[0], color[1], color[2]];
    seq(rc.ContourSequence).forEach((c, n) => {
      const contour = readContour(c, n, e.roi.name, problems);
      if (!contour) return;
      if (contour.referencedSopInstanceUid && listed.size > 0 && !listed.has(contour.referencedSopInstanceUid)) {
        problems.push({
          code: 'UNLISTED_REFERENCE',
          roi: e.roi.name,
          message: `contour ${n + 1} references image ${contour.referencedSopInstanceUid}, which the structure set's referenced series does not list`,
        });
      }
      e.roi.contours.push(contour);
    });
  }
  for (const { roi, seen } of rois.values()) {
    if (!seen) problems.push({ code: 'ROI_WITHOUT_CONTOUR_ITEM', roi: roi.name, message: `ROI ${roi.number} '${roi.name}' has no ROIContourSequence item` });
    else if (roi.contours.length === 0) problems.push({ code: 'EMPTY_ROI', roi: roi.name, message: `ROI ${roi.number} '${roi.name}' has no contours` });
  }
  return {
    sopInstanceUid: str(ds.SOPInstanceUID) ?? '',
    seriesInstanceUid: str(ds.SeriesInstanceUID),
    studyInstanceUid: str(ds.StudyInstanceUID),
    patientId: str(ds.PatientID),
    label: str(ds.StructureSetLabel),
    referencedSeriesUids,
    referencedImageUids,
    rois: [...rois.values()].map((e) => e.roi),
    problems,
  };
}

function readContour(c: NaturalDataset, n: number, roi: string, problems: RtstructProblem[]): RtContour | undefined {
  const type = str(c.ContourGeometricType) ?? 'CLOSED_PLANAR';
  const raw = Array.isArray(c.ContourData) ? c.ContourData.map(Number) : typeof c.ContourData === 'number' ? [c.ContourData] : [];
  const declared = c.NumberOfContourPoints === undefined ? undefined : Number(c.NumberOfContourPoints);
  if (raw.length === 0 || raw.length % 3 !== 0 || raw.some((v) => !Number.isFinite(v))) {
    problems.push({ code: 'BAD_CONTOUR_DATA', roi, message: `contour ${n + 1}: ContourData has ${raw.length} values, not a list of x\\y\\z triples` });
    return undefined;
  }
  const points: Vec3[] = [];
  for (let i = 0; i < raw.length; i += 3) points.push([raw[i], raw[i + 1], raw[i + 2]]);
  if (declared !== undefined && declared !== points.length) {
    problems.push({ code: 'BAD_CONTOUR_DATA', roi, message: `contour ${n + 1}: NumberOfContourPoints is ${declared} but ContourData has ${points.length} points (using the data)` });
  }
  if (type !== 'CLOSED_PLANAR') {
    problems.push({ code: 'POINT_CONTOUR', roi, message: `contour ${n + 1} is ${type}: it encloses no area and is not filled` });
  }
  const ref = seq(c.ContourImageSequence)[0];
  return {
    type,
    points,
    referencedSopInstanceUid: ref ? str(ref.ReferencedSOPInstanceUID) : undefined,
    referencedFrameNumber: ref && ref.ReferencedFrameNumber !== undefined ? Number(ref.ReferencedFrameNumber) : undefined,
  };
}
