import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DfaError } from '../core/errors.ts';
import type { JobRecord } from '../storage/audit.ts';

/** What the review and preview routes need (serve injects the real ones). */
export interface ReviewRouteDeps {
  readonly getJob: (jobKey: string) => Promise<JobRecord | undefined>;
  /** Reads one artifact (a preview PNG) by key. */
  readonly readArtifact: (key: string) => Promise<Uint8Array>;
  /** Records a decision and queues the job to resume at its review gate. */
  readonly review: (jobKey: string, d: { decision: 'approve' | 'reject'; reviewer: string; comment?: string }) => Promise<JobRecord>;
  /**
   * Who is calling (the authenticated identity; serve's auth sets it). Without authentication on
   * loopback the API has no identity to record: 'local user (no API auth)'.
   */
  readonly callerOf?: (req: FastifyRequest) => string | undefined;
}

export const ReviewRequest = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
});

interface StoredPreview {
  readonly name: string;
  readonly key: string;
  readonly width: number;
  readonly height: number;
}

function storedPreviews(j: JobRecord): StoredPreview[] {
  const p = (j.result as { previews?: unknown } | null)?.previews;
  return Array.isArray(p) ? (p as StoredPreview[]) : [];
}

/** `GET /jobs/{key}` lists previews as `{name, url, width, height}` (DESIGN.md "Contracts"). */
export function previewLinks(j: JobRecord): { name: string; url: string; width: number; height: number }[] {
  return storedPreviews(j).map((p) => ({
    name: p.name,
    url: `/jobs/${encodeURIComponent(j.jobKey)}/previews/${encodeURIComponent(p.name)}.png`,
    width: p.width,
    height: p.height,
  }));
}

export function registerReviewRoutes(app: FastifyInstance, deps: ReviewRouteDeps): void {
  app.get<{ Params: { jobKey: string; name: string } }>('/jobs/:jobKey/previews/:name', async (req, reply) => {
    const job = await deps.getJob(req.params.jobKey);
    if (!job) throw new DfaError('JOB_NOT_FOUND', `no job '${req.params.jobKey}'`);
    const name = req.params.name.replace(/\.png$/, '');
    const p = storedPreviews(job).find((x) => x.name === name);
    if (!p) throw new DfaError('ARTIFACT_NOT_FOUND', `job has no preview '${name}'`);
    const png = await deps.readArtifact(p.key);
    // Job-specific and immutable for this generation; private: it shows a patient's anatomy.
    return reply.header('content-type', 'image/png').header('cache-control', 'private, max-age=3600').send(Buffer.from(png));
  });

  app.post<{ Params: { jobKey: string } }>('/jobs/:jobKey/review', async (req) => {
    const parsed = ReviewRequest.safeParse(req.body);
    if (!parsed.success) throw new DfaError('CONFIG_INVALID', `bad review: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (parsed.data.decision === 'reject' && !parsed.data.comment?.trim()) throw new DfaError('CONFIG_INVALID', 'a rejection needs a comment saying why');
    const reviewer = deps.callerOf?.(req) ?? 'local user (no API auth)';
    const job = await deps.review(req.params.jobKey, { decision: parsed.data.decision, reviewer, comment: parsed.data.comment });
    return { jobKey: job.jobKey, status: job.status, review: job.review };
  });
}
