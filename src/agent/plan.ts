import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The typed, validated plan a goal turns into (`dfa plan` prints it). Both the rule-based and the
 * LLM planner produce this schema; the agent only ever executes a validated Plan.
 */
export const PlanSchema = z.object({
  goal: z.string(),
  /** Which studies: a FHIR ImagingStudy search. */
  selection: z.object({
    status: z.enum(['registered', 'available', 'any']).default('registered'),
    modality: z.string().default('CT'),
    bodySite: z.string().optional(), // e.g. 'CHEST'
    dateFrom: z.string().optional(), // YYYY-MM-DD
    dateTo: z.string().optional(),
    patient: z.string().optional(), // identifier value (MRN) or Patient/<id>
    /** Several patients (MRNs or Patient/<id>): a study of any of them. */
    patients: z.array(z.string()).optional(),
    /** Patients named in the goal, as DICOM PN "Family^Given" (PS3.5 6.2); resolved by FHIR Patient search at run time. */
    patientNames: z.array(z.string()).optional(),
    excludePatients: z.array(z.string()).optional(), // MRNs or Patient/<id> never selected
    accessionNumbers: z.array(z.string()).optional(),
    studyInstanceUids: z.array(z.string()).optional(),
    excludeStudyInstanceUids: z.array(z.string()).optional(),
    /** Words the study or one of its series must carry (description or body site), e.g. 'chest'. */
    describedAs: z.array(z.string()).optional(),
    /** With limit: which end of the study-date order to take ('newest' = most recent first). */
    order: z.enum(['newest', 'oldest']).optional(),
    limit: z.number().int().positive().optional(),
  }),
  /** What to compute. */
  pipeline: z.object({
    task: z.literal('segmentation'),
    structures: z.array(z.string()).min(1), // TG-263 ROI names from a model manifest, e.g. Lung_L
    segmenter: z.string().default('classical'), // 'classical' | 'onnx' | model name
    fallbackSegmenter: z.string().optional(),
    /** The goal itself named the segmenter ("using the U-Net"): it runs that one or the job fails — no automatic fallback. */
    segmenterNamed: z.boolean().default(false),
  }),
  /** What to produce. */
  outputs: z.object({
    rtstruct: z.boolean(),
    seg: z.boolean(),
    fhirReport: z.boolean(),
  }),
  /** Where results go: 'default' = DFA_STORE. */
  store: z.object({ method: z.enum(['default', 'c-store', 'stow-rs']).default('default') }),
  /**
   * When a person reviews the contours before they reach the PACS: never, when QC fails (default),
   * or always. Goals can say it ("for review", "no review"); DFA_REVIEW sets the default.
   */
  review: z.enum(['never', 'on-qc-fail', 'always']).default('on-qc-fail'),
  /** Re-process studies that already have results (re-run); otherwise finished work is skipped. */
  rerun: z.boolean().default(false),
  /** What the planner understood, in words, for the user. */
  understood: z.array(z.string()).default([]),
});

export type Plan = z.infer<typeof PlanSchema>;

/** Stable key of what a plan does (not how it was phrased): part of each job's dedup key. */
export function planKey(plan: Plan): string {
  // The review policy decides who looks, not what is computed: it is not part of a job's identity.
  const { selection: _s, goal: _g, understood: _u, rerun: _r, review: _v, ...what } = plan;
  const canon = JSON.stringify(what, Object.keys(flatten(what)).sort());
  return createHash('sha256').update(canon).digest('hex').slice(0, 16);
}

function flatten(o: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      out[k] = true;
      flatten(v, out);
    }
  }
  return out;
}

/** One job per (plan, study): the dedup key (DESIGN.md "One job, step by step"). */
export function jobKey(plan: Plan, studyInstanceUid: string): string {
  return `${planKey(plan)}:${studyInstanceUid}`;
}
