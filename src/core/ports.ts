/**
 * The typed interfaces each service exposes (DESIGN.md: one interface per external system, an
 * in-process implementation, and a shared contract suite). The agent depends only on these.
 * Large data moves by reference: file paths in the artifact store, never buffers in JSON.
 */
import type { RetrieveMethod } from './config.ts';
import type { LabelInfo, ModelManifest, QcResult } from './model.ts';
import type { LabelMap, Volume, VolumeGeometry, VolumeInfo } from './volume.ts';

// ───────────────────────── dicom_handler ─────────────────────────
export interface StudyQuery {
  readonly studyInstanceUid?: string;
  readonly patientId?: string;
  readonly accessionNumber?: string;
  readonly modality?: string; // ModalitiesInStudy
  readonly studyDateFrom?: string; // YYYYMMDD
  readonly studyDateTo?: string;
}
export interface StudyRecord {
  readonly studyInstanceUid: string;
  readonly patientId?: string;
  readonly patientName?: string;
  readonly studyDate?: string;
  readonly accessionNumber?: string;
  readonly studyDescription?: string;
  readonly modalities: readonly string[];
  readonly numberOfInstances?: number;
}
export interface SeriesRecord {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  readonly numberOfInstances?: number;
}
export interface InstanceRecord {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly instanceNumber?: number;
}
export interface RetrievedInstance {
  readonly path: string; // Part 10 file on local disk
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}
export interface RetrieveAttempt {
  readonly method: RetrieveMethod;
  readonly ok: boolean;
  readonly reason?: string;
  readonly ms: number;
}
export interface RetrieveResult {
  readonly method: RetrieveMethod; // the one that succeeded
  readonly instances: readonly RetrievedInstance[];
  readonly attempts: readonly RetrieveAttempt[];
}
/** A retrieval that landed in the shared artifact store: each file by its key under the prefix asked for. */
export interface StoredRetrieval {
  readonly method: RetrieveMethod;
  readonly instances: readonly (Omit<RetrievedInstance, 'path'> & { readonly key: string })[];
  readonly attempts: readonly RetrieveAttempt[];
}
export interface StoreOutcome {
  readonly sopInstanceUid: string;
  readonly ok: boolean;
  readonly status: number; // DIMSE status, or HTTP status for STOW-RS
  readonly reason?: string;
}

/** A PACS as the workflow sees it (Orthanc, dcm4chee, a vendor PACS, or the embedded dev PACS). */
export interface Pacs {
  echo(): Promise<void>;
  findStudies(q: StudyQuery): Promise<StudyRecord[]>;
  findSeries(studyInstanceUid: string, q?: { modality?: string }): Promise<SeriesRecord[]>;
  findInstances(studyInstanceUid: string, seriesInstanceUid: string): Promise<InstanceRecord[]>;
  /** Fetch a study (or one series) into destDir, trying the configured methods in order. */
  retrieve(req: { studyInstanceUid: string; seriesInstanceUid?: string }, destDir: string): Promise<RetrieveResult>;
  /**
   * Only a PACS reached through a dicom_handler that shares the artifact store (src/remote/pacs.ts):
   * the retrieval lands in the store under `prefix` directly, no copy through this process.
   */
  retrieveToStore?(req: { studyInstanceUid: string; seriesInstanceUid?: string }, prefix: string): Promise<StoredRetrieval>;
  /** Store Part 10 files (C-STORE or STOW-RS as configured). Statuses are values, not exceptions. */
  store(files: readonly string[]): Promise<StoreOutcome[]>;
  close(): Promise<void>;
}

// ───────────────────────── ml_processor ─────────────────────────
export interface Segmenter {
  readonly manifest: ModelManifest;
  /** Label map on the volume's own grid, label values as in manifest.labels. */
  segment(volume: Volume, opts?: { signal?: AbortSignal }): Promise<LabelMap>;
}

export interface SegmentationOutcome {
  readonly labels: LabelMap;
  readonly manifest: ModelManifest;
  readonly qc: QcResult;
  readonly volumesMl: Readonly<Record<string, number>>; // by ROI name
}

/**
 * Segment with one segmenter and run QC on the result: the ml_processor's entry point as a job
 * sees it. `segmenter` is a model reference — a manifest name, `name@version`, or a kind
 * ('classical' / 'onnx') — resolved by the model registry wherever the model runs (in process, or
 * an ml_processor service: src/remote/ml.ts).
 */
export type SegmentWithQc = (volume: Volume, segmenter: string, opts?: SegmentOptions) => Promise<SegmentationOutcome>;
export interface SegmentOptions {
  readonly signal?: AbortSignal;
  /**
   * Where this volume is saved in the artifact store (a job's `<job>/volume`: its header and the keys
   * of the DICOM files it was loaded from, src/agent/jobs/volume-artifacts.ts). A remote ml_processor
   * loads it from there by key instead of being sent the voxels; in process it is not needed.
   */
  readonly volumeKey?: string;
}

/** A preview PNG a job wrote to the artifact store. */
export interface StoredPreview {
  readonly name: string; // e.g. 'coronal-lung'
  readonly key: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Where a job's volume is loaded and kept: the steps that need voxels (segment, previews) run there,
 * and the agent handles the volume's header only. In process that is the agent itself
 * (src/agent/jobs/local-volume-host.ts); with a remote ml_processor it is that service
 * (src/remote/ml.ts), so the study crosses the network once, to where it is segmented, and is
 * decoded once (issue 13). Volumes and label maps are named by their keys in the artifact store
 * (src/agent/jobs/volume-artifacts.ts), so a job resumed elsewhere reaches the same ones.
 */
export interface VolumeHost {
  /** Loads the series from these DICOM file keys and saves it as the volume `volumeKey`; answers its header. */
  open(volumeKey: string, sourceFiles: readonly string[]): Promise<VolumeInfo>;
  /**
   * SegmentWithQc on the saved volume (`geometry`: its header's, the labels are checked against it);
   * the label map is also saved under `labelsKey` (volume-artifacts.ts), where the steps after read it.
   */
  segment(volumeKey: string, geometry: VolumeGeometry, segmenter: string, opts: { labelsKey: string; signal?: AbortSignal }): Promise<SegmentationOutcome>;
  /** Previews of the saved volume with the saved label map `labelsKey`, written under `prefix` (preview-artifacts.ts). */
  renderPreviews(req: PreviewRequest): Promise<StoredPreview[]>;
}
export interface PreviewRequest {
  readonly volumeKey: string;
  readonly labelsKey: string;
  /** The structures to draw (the plan's, from the model manifest). */
  readonly labels: readonly LabelInfo[];
  readonly prefix: string;
}

// ───────────────────────── storage_service ─────────────────────────
/**
 * Artifacts by '/'-separated key. Local disk, or an object store (S3) as the source of truth with
 * a local working copy: then `dir` fills the copy from the store and `commit` publishes what was
 * written into it. Readers never see a half-written artifact.
 */
export interface ArtifactStore {
  /**
   * Absolute local directory for a key prefix (created on demand), e.g. `jobs/<id>/input`, holding
   * every artifact stored under that prefix (fetched into the local copy when it is not there).
   */
  dir(prefix: string): Promise<string>;
  /** Publish the files written into `dir(prefix)` so that other machines see them (local disk: already there). */
  commit(prefix: string): Promise<void>;
  put(key: string, data: Uint8Array): Promise<string>; // returns local path
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  remove(prefix: string): Promise<void>;
  /**
   * Stores with a local working copy (S3, the storage service): drop the copy under `prefix`; what is
   * stored stays. A service that only passes data through (the dicom_handler after a retrieval, the
   * ml_processor after segmenting) keeps no copy of every study. Local disk has nothing to drop.
   */
  release?(prefix: string): Promise<void>;
}

// ───────────────────────── fhir_handler ─────────────────────────
export interface WorkQuery {
  readonly status: string; // ImagingStudy.status, 'registered' for pending work
  readonly modality?: string;
  readonly bodySite?: string;
  readonly dateFrom?: string; // YYYY-MM-DD
  readonly dateTo?: string;
  readonly patient?: string; // identifier value or Patient/<id>
  readonly studyInstanceUid?: string;
  readonly limit?: number;
}

/** One ImagingStudy that needs work, with what the job needs to cross-check DICOM. */
export interface WorkItem {
  readonly imagingStudy: string; // 'ImagingStudy/<id>'
  readonly versionId?: string;
  readonly studyInstanceUid: string;
  readonly accessionNumber?: string;
  readonly patient?: string; // 'Patient/<id>'
  readonly serviceRequest?: string; // 'ServiceRequest/<id>' from basedOn
  readonly modalities: readonly string[];
  readonly seriesUids: readonly string[];
  /** Who and what, for the people who decide (dry-run list, run summary): all optional. */
  readonly started?: string; // ImagingStudy.started (YYYY-MM-DD…)
  readonly description?: string;
  readonly series?: readonly SeriesSummary[];
  readonly patientMrn?: string;
  readonly patientName?: string; // DICOM PN style "Family^Given"
}

export interface SeriesSummary {
  readonly uid: string;
  readonly modality: string;
  readonly description?: string;
  readonly instances?: number;
  readonly bodySite?: string;
}

/** A FHIR Patient as the planner's selection needs it. */
export interface PatientSummary {
  readonly reference: string; // 'Patient/<id>'
  readonly mrn?: string;
  readonly name?: string; // "Family^Given"
}

/** Patient search: by identifier (MRN) or by DICOM-style name "Family^Given" (exact, case-insensitive). */
export interface PatientQuery {
  readonly identifier?: string;
  readonly name?: string;
}

export interface JobResults {
  readonly jobKey: string;
  readonly rtstruct?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string };
  readonly seg?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string };
  readonly sourceSeriesInstanceUid: string;
  readonly volumesMl: Readonly<Record<string, number>>;
  readonly labels: readonly LabelInfo[];
  readonly model: { readonly name: string; readonly version: string };
  /** Per structure: 'partial' = cut by the scan's end; its volume is only the part in view. */
  readonly coverage?: Readonly<Record<string, 'complete' | 'partial'>>;
  /** The person who approved the contours (FHIR Provenance agent of type verifier). */
  readonly reviewer?: string;
  /** A preview PNG for DiagnosticReport.presentedForm, so a FHIR viewer shows the contours. */
  readonly keyImage?: { readonly title: string; readonly png: Uint8Array };
}

export interface WrittenRef {
  readonly reference: string; // 'DiagnosticReport/<id>'
  readonly versionId?: string;
}

/** FHIR R4 Task.status values a job uses. */
export type TaskState = 'in-progress' | 'on-hold' | 'completed' | 'failed' | 'rejected';

/** The FHIR side of the workflow, against any R4 server. All writes are idempotent. */
export interface ImagingFhir {
  findWork(q: WorkQuery): Promise<WorkItem[]>;
  /** Patients by MRN or exact name; the planner refuses a name with several or no matches. */
  findPatients(q: PatientQuery): Promise<PatientSummary[]>;
  /** Throws DfaError FHIR_PATIENT_MISMATCH when the DICOM PatientID matches none of the Patient's identifiers. */
  checkPatient(item: WorkItem, dicomPatientId: string): Promise<void>;
  /** Create (or find, by identifier jobKey) the Task for a job; returns 'Task/<id>'. */
  ensureTask(item: WorkItem, jobKey: string): Promise<string>;
  /** `on-hold` = waits for a person's contour review; `reason` becomes Task.statusReason for failed / rejected / on-hold (R4 Task: rejected = decided not to perform it). */
  updateTask(task: string, status: TaskState, reason?: string): Promise<void>;
  /** DiagnosticReport + Observations, Provenance, ImagingStudy → available with new series. */
  recordResults(item: WorkItem, results: JobResults): Promise<{
    diagnosticReport: string;
    provenance: string;
    written: readonly WrittenRef[];
  }>;
}
