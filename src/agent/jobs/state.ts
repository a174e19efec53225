import { Annotation } from '@langchain/langgraph';
import type { Coverage, LabelInfo, ModelManifest, QcResult } from '../../core/model.ts';
import type { StoredPreview, WorkItem, WrittenRef } from '../../core/ports.ts';
import type { Plan } from '../plan.ts';

/**
 * A job's state as the checkpointer records it after every step. Small and JSON-only: large data
 * lives in the artifact store and is referenced by key (DESIGN.md: large data moves by reference).
 */
export interface SeriesChoice {
  readonly seriesInstanceUid: string;
  /** Artifact keys of its Part 10 files (absolute paths in jobs checkpointed by earlier versions). */
  readonly files: readonly string[];
}
export interface VolumeRef {
  /** Artifact key prefix of volume.json + volume.raw. */
  readonly key: string;
  readonly patientId: string;
  readonly frameOfReferenceUid: string;
  readonly slices: number;
}
export interface SegRef {
  readonly key: string; // labels.json + labels.raw
  readonly model: { readonly name: string; readonly version: string };
  readonly manifest: ModelManifest;
  /** The plan's structures, as the model labels them. */
  readonly labels: readonly LabelInfo[];
  readonly volumesMl: Readonly<Record<string, number>>;
  readonly qc: QcResult;
  readonly fallbackUsed: boolean;
  /** Why the plan's first segmenter's result was not used (when fallbackUsed). */
  readonly fallbackReason?: string;
  /** Per structure: complete, or cut by the scan's end (QC). */
  readonly coverage?: Readonly<Record<string, Coverage>>;
}
export interface OutputRef {
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly key: string; // artifact key of the Part 10 file
  readonly path?: string; // where that file is on this machine
}
/** One rendered preview PNG in the artifact store. */
export type PreviewRef = StoredPreview;
/** A person's decision at the review gate (the resume value of its interrupt). */
export interface ReviewDecision {
  readonly decision: 'approve' | 'reject';
  readonly reviewer: string;
  readonly comment?: string;
  readonly decidedAt?: string;
}
export interface Outcome {
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly step?: string;
  readonly reason?: string;
}

const last = <T>() => Annotation<T>({ reducer: (_a: T, b: T) => b, default: () => undefined as T });

export const JobStateAnnotation = Annotation.Root({
  jobKey: last<string>(),
  generation: last<number>(),
  plan: last<Plan>(),
  item: last<WorkItem>(),
  task: last<string | undefined>(),
  retrieved: last<{ readonly prefix: string; readonly method: string; readonly count: number } | undefined>(),
  series: last<SeriesChoice | undefined>(),
  volumeRef: last<VolumeRef | undefined>(),
  seg: last<SegRef | undefined>(),
  rtstruct: last<OutputRef | undefined>(),
  segObject: last<OutputRef | undefined>(),
  previews: last<readonly PreviewRef[] | undefined>(),
  review: last<ReviewDecision | undefined>(),
  stored: last<readonly string[] | undefined>(),
  verified: last<boolean | undefined>(),
  fhir: last<{ readonly diagnosticReport: string; readonly provenance: string; readonly written: readonly WrittenRef[] } | undefined>(),
  outcome: last<Outcome | undefined>(),
  timingsMs: Annotation<Record<string, number>>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }),
});

export type JobState = typeof JobStateAnnotation.State;
/** What a node returns: the fields it changed. */
export type JobUpdate = Partial<JobState>;
