import type { JobState } from './state.ts';
import { whoOf, type StudyWho } from '../who.ts';

/** One job as `dfa run --json` reports it (DESIGN.md "Contracts"). */
export interface JobResult {
  readonly studyInstanceUid: string;
  readonly imagingStudy: string;
  /** Who and what (MRN masked unless asked otherwise). */
  readonly who?: StudyWho;
  /** The image series the contours were made on. */
  readonly input?: { readonly seriesInstanceUid: string; readonly slices?: number };
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'review';
  readonly reason?: string;
  readonly step?: string;
  readonly task?: string;
  /** Output UIDs as stored in the PACS, and `path`: the local copy we wrote. */
  readonly rtstruct?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly path?: string };
  readonly seg?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string; readonly path?: string };
  readonly diagnosticReport?: string;
  readonly provenance?: string;
  readonly model?: { readonly name: string; readonly version: string };
  readonly fallbackUsed?: boolean;
  /** Why the plan's first segmenter's contours were not used. */
  readonly fallbackReason?: string;
  /** Per structure: complete, or cut by the scan's end ("partial": its volume is the part in view). */
  readonly coverage?: Readonly<Record<string, 'complete' | 'partial'>>;
  /** Which QC limits applied and why (patient age, or "age unknown: adult limits"). */
  readonly qcLimits?: string;
  readonly volumesMl?: Readonly<Record<string, number>>;
  /** Rendered previews (artifact keys; the API lists them as URLs under /jobs/{key}/previews/). */
  readonly previews?: readonly { readonly name: string; readonly key: string; readonly width: number; readonly height: number }[];
  /** The person who approved or rejected the contours. */
  readonly review?: { readonly decision: 'approve' | 'reject'; readonly reviewer: string; readonly comment?: string };
  readonly timingsMs: Readonly<Record<string, number>>;
}

/** A job's result from its final state (a graph that ended: never 'review'; see executeJob for that). */
export function resultOf(s: JobState): JobResult & { readonly status: 'succeeded' | 'failed' | 'skipped' } {
  const o = s.outcome ?? { status: 'failed' as const, reason: 'job ended without an outcome' };
  const uids = (r?: { seriesInstanceUid: string; sopInstanceUid: string; path?: string }) =>
    r && { seriesInstanceUid: r.seriesInstanceUid, sopInstanceUid: r.sopInstanceUid, ...(r.path ? { path: r.path } : {}) };
  return {
    studyInstanceUid: s.item.studyInstanceUid,
    imagingStudy: s.item.imagingStudy,
    who: whoOf(s.item),
    ...(s.series ? { input: { seriesInstanceUid: s.series.seriesInstanceUid, ...(s.volumeRef ? { slices: s.volumeRef.slices } : {}) } } : {}),
    status: o.status,
    reason: o.reason,
    step: o.step,
    task: s.task,
    rtstruct: uids(s.rtstruct),
    seg: uids(s.segObject),
    diagnosticReport: s.fhir?.diagnosticReport,
    provenance: s.fhir?.provenance,
    model: s.seg?.model,
    fallbackUsed: s.seg?.fallbackUsed,
    fallbackReason: s.seg?.fallbackReason,
    coverage: s.seg?.coverage,
    qcLimits: s.seg?.qc.limits?.basis,
    volumesMl: s.seg?.volumesMl,
    previews: s.previews,
    review: s.review && { decision: s.review.decision, reviewer: s.review.reviewer, ...(s.review.comment ? { comment: s.review.comment } : {}) },
    timingsMs: s.timingsMs,
  };
}
