/**
 * What the results archive keeps per job (record.json beside the objects, and the index row):
 * inputs → outputs, the model, QC, coverage, timings and the FHIR resources written.
 */
export interface ArchiveRecord {
  readonly jobKey: string;
  readonly studyInstanceUid: string;
  readonly patientId?: string;
  readonly imagingStudy?: string; // 'ImagingStudy/<id>'
  readonly inputs: { readonly seriesInstanceUids: readonly string[] };
  readonly outputs: {
    readonly rtstruct?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly key: string };
    readonly seg?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly key: string };
    readonly previews: readonly { readonly name: string; readonly key: string }[];
  };
  readonly model: { readonly name: string; readonly version: string };
  readonly qc?: { readonly ok: boolean; readonly fallbackUsed: boolean; readonly fallbackReason?: string };
  readonly coverage?: Readonly<Record<string, string>>;
  readonly volumesMl?: Readonly<Record<string, number>>;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly fhir: readonly string[]; // references written (DiagnosticReport/…, Provenance/…, Task/…)
  readonly reviewer?: string;
  readonly archivedAt: string; // ISO 8601
}

/** One job's results to archive: the record, less what the archive fills in, and the objects by source key. */
export interface ArchiveInput {
  readonly record: Omit<ArchiveRecord, 'outputs' | 'archivedAt'>;
  readonly rtstruct?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly from: string };
  readonly seg?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly from: string };
  readonly previews: readonly { readonly name: string; readonly from: string }[];
}

/** Archive search: any of study, patient, a range of archive dates (inclusive; YYYY-MM-DD or ISO times). */
export interface ArchiveQuery {
  readonly study?: string;
  readonly patient?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}

export interface ArchiveEntry {
  readonly studyInstanceUid: string;
  readonly jobKey: string;
  readonly patientId?: string;
  readonly prefix: string;
  readonly archivedAt: string;
  readonly record: ArchiveRecord;
}
