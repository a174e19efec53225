import type { JobState } from './state.ts';

/** One job as `dfa run --json` reports it (DESIGN.md "Contracts"). */
export interface JobResult {
  readonly studyInstanceUid: string;
  readonly imagingStudy: string;
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'review';
  readonly reason?: string;
  readonly step?: string;
  readonly task?: string;
  readonly rtstruct?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string };
  readonly seg?: { readonly seriesInstanceUid: string; readonly sopInstanceUid: string };
  readonly diagnosticReport?: string;
  readonly provenance?: string;
  readonly model?: { readonly name: string; readonly version: string };
  readonly fallbackUsed?: boolean;
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
  const uids = (r?: { seriesInstanceUid: string; sopInstanceUid: string }) =>
    r && { seriesInstanceUid: r.seriesInstanceUid, sopInstanceUid: r.sopInstanceUid };
  return {
    studyInstanceUid: s.item.studyInstanceUid,
    imagingStudy: s.item.imagingStudy,
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
    volumesMl: s.seg?.volumesMl,
    previews: s.previews,
    review: s.review && { decision: s.review.decision, reviewer: s.review.reviewer, ...(s.review.comment ? { comment: s.review.comment } : {}) },
    timingsMs: s.timingsMs,
  };
}
