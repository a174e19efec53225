import { z } from 'zod';
import { PlanSchema } from '../agent/plan.ts';

/** Request/response shapes of the REST API; the OpenAPI document is generated from these. */
export const GoalRequest = z.object({
  goal: z.string().min(1).describe('The goal in plain words'),
  dryRun: z.boolean().default(false).describe('Plan and find the studies, change nothing'),
  planner: z.enum(['rules', 'llm']).optional(),
});
export const GoalAccepted = z.object({ runId: z.string(), plan: PlanSchema, links: z.object({ run: z.string(), events: z.string() }) });
export const ApiError = z.object({
  error: z.string().describe('Stable error code (DfaError code)'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export const RunSummary = z.object({
  runId: z.string(),
  goal: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  summary: z.unknown(),
  startedBy: z.string().nullable().describe("Who started the run: 'oidc:<sub>', 'token:token', 'standing-goal', …"),
});
export const Job = z.object({
  jobKey: z.string(),
  runId: z.string(),
  studyInstanceUid: z.string(),
  imagingStudy: z.string().nullable(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'skipped', 'review']),
  step: z.string().nullable(),
  reason: z.string().nullable(),
  /** "waiting for PACS since <ISO time>" while the job waits out an upstream outage. */
  waiting: z.string().nullable(),
  outputSops: z.array(z.string()),
  model: z.object({ name: z.string(), version: z.string() }).nullable(),
  volumesMl: z.record(z.string(), z.number()).nullable(),
  timingsMs: z.record(z.string(), z.number()),
  attempts: z.number(),
  previews: z.array(z.object({ name: z.string(), url: z.string(), width: z.number(), height: z.number() })),
  review: z.unknown().describe('why the job waits for review and, once decided, the decision'),
  fallbackUsed: z.boolean().nullable(),
  viewerUrl: z.string().nullable().describe('DFA_VIEWER_URL with this study'),
});
export const JobEvent = z.object({
  id: z.string(),
  jobKey: z.string(),
  at: z.string(),
  step: z.string().nullable(),
  kind: z.string(),
  message: z.string().nullable(),
  data: z.unknown(),
});
export const RunDetail = RunSummary.extend({ plan: z.unknown(), jobs: z.array(Job) });
export const JobDetail = z.object({ job: Job, previews: Job.shape.previews, events: z.array(JobEvent) });
export const ReviewDecisionBody = z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().optional() });
export const Health = z.object({ status: z.literal('ok') });
export const Readiness = z.object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })) });
