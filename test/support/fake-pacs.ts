import type { InstanceRecord, Pacs, RetrieveResult, SeriesRecord, StoreOutcome, StudyQuery, StudyRecord } from '../../src/core/ports.ts';

/**
 * A PACS stand-in that answers queries from records in memory, for testing the FHIR registration
 * logic and benchmarks without DICOM networking (the Pacs itself has its own contract suite
 * against Orthanc). retrieve/store are not supported.
 */
export class FakePacs implements Pacs {
  readonly studies: StudyRecord[];
  readonly series: SeriesRecord[] = [];
  readonly instances: InstanceRecord[] = [];

  constructor(studies: readonly { study: StudyRecord; series: readonly { s: SeriesRecord; n: number }[] }[]) {
    this.studies = studies.map((x) => x.study);
    for (const x of studies) for (const { s, n } of x.series) this.addSeries(s.studyInstanceUid, s.seriesInstanceUid, s.modality, n);
  }

  addSeries(studyUid: string, seriesUid: string, modality: string, n: number): void {
    this.series.push({ studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, modality, seriesNumber: this.series.length + 1, numberOfInstances: n });
    for (let i = 1; i <= n; i++) {
      this.instances.push({ studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, sopInstanceUid: `${seriesUid}.${i}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: i });
    }
  }

  async echo(): Promise<void> {}
  async findStudies(q: StudyQuery): Promise<StudyRecord[]> {
    return this.studies.filter((s) => (!q.studyInstanceUid || s.studyInstanceUid === q.studyInstanceUid) && (!q.modality || s.modalities.includes(q.modality)));
  }
  async findSeries(studyUid: string, q?: { modality?: string }): Promise<SeriesRecord[]> {
    return this.series.filter((s) => s.studyInstanceUid === studyUid && (!q?.modality || s.modality === q.modality));
  }
  async findInstances(studyUid: string, seriesUid: string): Promise<InstanceRecord[]> {
    return this.instances.filter((i) => i.studyInstanceUid === studyUid && i.seriesInstanceUid === seriesUid);
  }
  async retrieve(): Promise<RetrieveResult> {
    throw new Error('FakePacs cannot retrieve');
  }
  async store(): Promise<StoreOutcome[]> {
    throw new Error('FakePacs cannot store');
  }
  async close(): Promise<void> {}
}

/** A study with two series (3 and 2 instances) of the given modality; DICOM-style padded values. */
export function fakeStudy(
  uid: string,
  patientId: string,
  modality: string,
  o: { accession?: string; date?: string; name?: string; description?: string } = {},
): { study: StudyRecord; series: { s: SeriesRecord; n: number }[] } {
  return {
    study: { studyInstanceUid: uid, patientId: `${patientId} `, patientName: o.name ?? 'Doe^Jane', studyDate: o.date, accessionNumber: o.accession, modalities: [modality], studyDescription: o.description ?? 'CHEST ' },
    series: [
      { s: { studyInstanceUid: uid, seriesInstanceUid: `${uid}.1`, modality }, n: 3 },
      { s: { studyInstanceUid: uid, seriesInstanceUid: `${uid}.2`, modality }, n: 2 },
    ],
  };
}
