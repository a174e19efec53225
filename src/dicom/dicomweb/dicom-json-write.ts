/**
 * Writing QIDO-RS results in the DICOM JSON Model (PS3.18 F.2) from our typed records, for the
 * DICOMweb face of the embedded PACS. Only attributes with a value are written (F.2.5: an empty
 * attribute has no "Value"; leaving it out is simpler for clients and allowed for optional keys).
 */
import type { InstanceRecord, SeriesRecord, StudyRecord } from '../../core/ports.ts';
import { TAG } from './dicom-json.ts';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

function put(ds: Json, tag: string, vr: string, value: string | number | readonly string[] | undefined): void {
  if (value === undefined || value === '') return;
  if (Array.isArray(value)) {
    if (value.length > 0) ds[tag] = { vr, Value: [...value] };
    return;
  }
  // F.2.3: PN values are objects with component groups.
  ds[tag] = { vr, Value: [vr === 'PN' ? { Alphabetic: value } : value] };
}

export function studyJson(s: StudyRecord): Json {
  const ds: Json = {};
  put(ds, TAG.StudyDate, 'DA', s.studyDate);
  put(ds, TAG.AccessionNumber, 'SH', s.accessionNumber);
  put(ds, TAG.ModalitiesInStudy, 'CS', s.modalities);
  put(ds, TAG.StudyDescription, 'LO', s.studyDescription);
  put(ds, TAG.PatientName, 'PN', s.patientName);
  put(ds, TAG.PatientID, 'LO', s.patientId);
  put(ds, TAG.StudyInstanceUID, 'UI', s.studyInstanceUid);
  put(ds, TAG.NumberOfStudyRelatedInstances, 'IS', s.numberOfInstances);
  return ds;
}

export function seriesJson(s: SeriesRecord): Json {
  const ds: Json = {};
  put(ds, TAG.Modality, 'CS', s.modality);
  put(ds, TAG.SeriesDescription, 'LO', s.seriesDescription);
  put(ds, TAG.StudyInstanceUID, 'UI', s.studyInstanceUid);
  put(ds, TAG.SeriesInstanceUID, 'UI', s.seriesInstanceUid);
  put(ds, TAG.SeriesNumber, 'IS', s.seriesNumber);
  put(ds, TAG.NumberOfSeriesRelatedInstances, 'IS', s.numberOfInstances);
  return ds;
}

export function instanceJson(i: InstanceRecord): Json {
  const ds: Json = {};
  put(ds, TAG.SOPClassUID, 'UI', i.sopClassUid);
  put(ds, TAG.SOPInstanceUID, 'UI', i.sopInstanceUid);
  put(ds, TAG.StudyInstanceUID, 'UI', i.studyInstanceUid);
  put(ds, TAG.SeriesInstanceUID, 'UI', i.seriesInstanceUid);
  put(ds, TAG.InstanceNumber, 'IS', i.instanceNumber);
  return ds;
}

/** STOW-RS response data set (PS3.18 10.5.3): what was stored and what failed, with why. */
export function stowResponseJson(
  stored: readonly { sopClassUid: string; sopInstanceUid: string }[],
  failed: readonly { sopClassUid?: string; sopInstanceUid?: string; reason: number }[],
): Json {
  const ref = (i: { sopClassUid?: string; sopInstanceUid?: string }): Json => {
    const ds: Json = {};
    put(ds, TAG.ReferencedSOPClassUID, 'UI', i.sopClassUid);
    put(ds, TAG.ReferencedSOPInstanceUID, 'UI', i.sopInstanceUid);
    return ds;
  };
  const ds: Json = {};
  ds[TAG.ReferencedSOPSequence] = { vr: 'SQ', Value: stored.map(ref) };
  ds[TAG.FailedSOPSequence] = { vr: 'SQ', Value: failed.map((f) => ({ ...ref(f), [TAG.FailureReason]: { vr: 'US', Value: [f.reason] } })) };
  return ds;
}
