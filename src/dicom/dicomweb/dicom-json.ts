/**
 * Reading the DICOM JSON Model (PS3.18 F.2) that QIDO-RS and STOW-RS return: an object per data
 * set, keyed by 8-hex-digit tags, each `{ vr, Value: [...] }`. Person names are objects with an
 * `Alphabetic` component (F.2.2); numbers may arrive as JSON numbers or (IS/DS) as strings.
 */
export interface DicomJsonElement {
  readonly vr?: string;
  readonly Value?: readonly unknown[];
}
export type DicomJsonDataset = Readonly<Record<string, DicomJsonElement | undefined>>;

export const TAG = {
  SpecificCharacterSet: '00080005',
  StudyDate: '00080020',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  WarningReason: '00081196',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

export function firstString(ds: DicomJsonDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && 'Alphabetic' in v) {
    const a = (v as { Alphabetic?: unknown }).Alphabetic;
    return typeof a === 'string' ? a : undefined;
  }
  return undefined;
}

export function allStrings(ds: DicomJsonDataset, tag: string): string[] {
  return (ds[tag]?.Value ?? []).filter((v): v is string => typeof v === 'string');
}

export function firstNumber(ds: DicomJsonDataset, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function sequence(ds: DicomJsonDataset, tag: string): DicomJsonDataset[] {
  return (ds[tag]?.Value ?? []).filter((v): v is DicomJsonDataset => typeof v === 'object' && v !== null);
}
