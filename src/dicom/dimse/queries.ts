/**
 * C-FIND identifiers for the Study Root model (PS3.4 C.6.2.1) and their mapping to the records of
 * the Pacs port. Empty values are return keys; set values are matching keys (PS3.4 C.2.2.2).
 */
import type { InstanceRecord, SeriesRecord, StudyQuery, StudyRecord } from '../../core/ports.ts';
import { str, strs, type Identifier } from './dataset.ts';

export type QueryLevel = 'STUDY' | 'SERIES' | 'IMAGE';

/** PS3.4 C.2.2.2.5: a date range is 'from-to'; either end may be open. */
export function dateRange(from?: string, to?: string): string {
  if (!from && !to) return '';
  if (from && to && from === to) return from;
  return `${from ?? ''}-${to ?? ''}`;
}

export function studyIdentifier(q: StudyQuery): Identifier {
  return {
    QueryRetrieveLevel: 'STUDY',
    StudyInstanceUID: q.studyInstanceUid ?? '',
    PatientID: q.patientId ?? '',
    PatientName: '',
    StudyDate: dateRange(q.studyDateFrom, q.studyDateTo),
    StudyTime: '',
    AccessionNumber: q.accessionNumber ?? '',
    StudyDescription: '',
    ModalitiesInStudy: q.modality ?? '',
    NumberOfStudyRelatedInstances: '',
  };
}

export function seriesIdentifier(studyInstanceUid: string, q: { modality?: string; seriesInstanceUid?: string } = {}): Identifier {
  return {
    QueryRetrieveLevel: 'SERIES',
    StudyInstanceUID: studyInstanceUid,
    SeriesInstanceUID: q.seriesInstanceUid ?? '',
    Modality: q.modality ?? '',
    SeriesNumber: '',
    SeriesDescription: '',
    NumberOfSeriesRelatedInstances: '',
  };
}

export function instanceIdentifier(studyInstanceUid: string, seriesInstanceUid: string): Identifier {
  return {
    QueryRetrieveLevel: 'IMAGE',
    StudyInstanceUID: studyInstanceUid,
    SeriesInstanceUID: seriesInstanceUid,
    SOPInstanceUID: '',
    SOPClassUID: '',
    InstanceNumber: '',
  };
}

/** Identifier for C-GET / C-MOVE of a study or one series (PS3.4 C.4.2.1.4 / C.4.3.1.3). */
export function retrieveIdentifier(studyInstanceUid: string, seriesInstanceUid?: string): Identifier {
  return seriesInstanceUid
    ? { QueryRetrieveLevel: 'SERIES', StudyInstanceUID: studyInstanceUid, SeriesInstanceUID: seriesInstanceUid }
    : { QueryRetrieveLevel: 'STUDY', StudyInstanceUID: studyInstanceUid };
}

const int = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number.parseInt(s, 10);
  return Number.isFinite(n) ? n : undefined;
};

/** Drop undefined fields so records compare equal whatever the source. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function toStudyRecord(ds: Identifier): StudyRecord {
  return clean({
    studyInstanceUid: str(ds, 'StudyInstanceUID') ?? '',
    patientId: str(ds, 'PatientID'),
    patientName: str(ds, 'PatientName'),
    studyDate: str(ds, 'StudyDate'),
    accessionNumber: str(ds, 'AccessionNumber'),
    studyDescription: str(ds, 'StudyDescription'),
    modalities: strs(ds, 'ModalitiesInStudy'),
    numberOfInstances: int(str(ds, 'NumberOfStudyRelatedInstances')),
  });
}

export function toSeriesRecord(ds: Identifier): SeriesRecord {
  return clean({
    studyInstanceUid: str(ds, 'StudyInstanceUID') ?? '',
    seriesInstanceUid: str(ds, 'SeriesInstanceUID') ?? '',
    modality: str(ds, 'Modality') ?? '',
    seriesNumber: int(str(ds, 'SeriesNumber')),
    seriesDescription: str(ds, 'SeriesDescription'),
    numberOfInstances: int(str(ds, 'NumberOfSeriesRelatedInstances')),
  });
}

export function toInstanceRecord(ds: Identifier): InstanceRecord {
  return clean({
    studyInstanceUid: str(ds, 'StudyInstanceUID') ?? '',
    seriesInstanceUid: str(ds, 'SeriesInstanceUID') ?? '',
    sopInstanceUid: str(ds, 'SOPInstanceUID') ?? '',
    sopClassUid: str(ds, 'SOPClassUID') ?? '',
    instanceNumber: int(str(ds, 'InstanceNumber')),
  });
}
