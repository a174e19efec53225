import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { DfaError, httpStatusFor, isDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Plan } from '../agent/plan.ts';
import type { AuditStore, JobEvent, JobRecord } from '../storage/audit.ts';
import type { RunRow } from '../storage/run-queries.ts';
import type { ApiAuthenticator } from '../net/api-auth.ts';
import { callerOf, registerGuard } from '../net/api-guard.ts';
import { openApiDocument } from './openapi.ts';
import { GoalRequest } from './schemas.ts';
import { previewLinks, registerReviewRoutes, type ReviewRouteDeps } from './review-routes.ts';
import { streamEvents } from './sse.ts';
import { whoOf } from '../agent/who.ts';
import { jobSearchFrom, wantsPhi, type JobListQuery } from './job-query.ts';
import { registerArchiveRoutes, type ArchiveRouteDeps } from './archive-routes.ts';

/**
 * The REST face of the agent_controller (`dfa serve`): submit a goal, follow runs and jobs, stream
 * job events. Everything it needs is injected, so the same routes serve the embedded setup and a
 * scaled-out one (events and jobs are read from PostgreSQL, whichever worker wrote them).
 */
export interface ApiDeps {
  readonly version: string;
  readonly plan: (goal: string, planner?: 'rules' | 'llm') => Promise<Plan>;
  /** Starts a goal run in the background; resolves once its run id exists. `startedBy` goes into the run's audit row. */
  readonly startRun: (plan: Plan, opts: { dryRun: boolean; startedBy: string }) => Promise<{ runId: string }>;
  readonly audit: Pick<AuditStore, 'listRuns' | 'listJobs' | 'getJob' | 'events' | 'searchJobs'>;
  readonly getRun: (runId: string) => Promise<RunRow | undefined>;
  readonly eventsAfter: (afterId: number, runId?: string) => Promise<JobEvent[]>;
  /** The newest event id (for `/events?after=latest`); absent: `latest` replays from the start. */
  readonly latestEventId?: () => Promise<number>;
  readonly readiness: () => Promise<Record<string, { ok: boolean; detail?: string }>>;
  readonly log: Logger;
  readonly ssePollMs?: number;
  /** Previews and the review gate (absent: those routes are not offered). */
  readonly reviews?: Omit<ReviewRouteDeps, 'getJob'>;
  /** DFA_VIEWER_URL: a viewer link per study, `{StudyInstanceUID}` replaced. */
  readonly viewerUrl?: string;
  /** Who may call (default: anyone — only for loopback; see auth.ts). */
  readonly auth?: ApiAuthenticator;
  /** Host header names accepted (guard.ts defaultAllowedHosts); undefined = any. */
  readonly allowedHosts?: readonly string[];
  /** Requests per minute per client address; undefined = no limit. */
  readonly ratePerMinute?: number;
  /** Largest request body (default 64 KiB) and most concurrent GET /events streams (default 32). */
  readonly maxBodyBytes?: number;
  readonly maxStreams?: number;
  /**
   * May this caller see patient names and MRNs (`?phi=1` on the job routes)? Default: yes, which
   * fits loopback without API authentication; with authentication, wire it to the caller's role.
   */
  readonly canSeePhi?: (req: FastifyRequest) => boolean;
  /** The results archive (absent: GET /archive is not offered). */
  readonly archive?: Pick<ArchiveRouteDeps, 'query'>;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** One job for API clients; the patient's MRN is masked unless the caller may see it (showPhi). */
export function jobView(j: JobRecord, showPhi = false, viewerUrl?: string) {
  return {
    jobKey: j.jobKey,
    runId: j.runId,
    studyInstanceUid: j.studyInstanceUid,
    imagingStudy: j.imagingStudy,
    who: whoOf(j.workItem, showPhi),
    status: j.status,
    step: j.step,
    reason: j.reason,
    waiting: j.waiting,
    outputSops: [...j.outputSops],
    model: j.model,
    fallbackUsed: (j.result as { fallbackUsed?: boolean } | null)?.fallbackUsed ?? null,
    outputs: { rtstruct: (j.result as { rtstruct?: unknown } | null)?.rtstruct ?? null, seg: (j.result as { seg?: unknown } | null)?.seg ?? null },
    volumesMl: j.volumesMl,
    timingsMs: j.timingsMs,
    attempts: j.attempts,
    previews: previewLinks(j),
    review: j.review,
    viewerUrl: viewerUrl ? viewerUrl.replaceAll('{StudyInstanceUID}', encodeURIComponent(j.studyInstanceUid)) : null,
  };
}
export const eventView = (e: JobEvent) => ({ id: e.id, jobKey: e.jobKey, at: iso(e.at), step: e.step, kind: e.kind, message: e.message, data: e.data });

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: deps.maxBodyBytes ?? 64 * 1024 });
  registerGuard(app, { auth: deps.auth, allowedHosts: deps.allowedHosts, ratePerMinute: deps.ratePerMinute });

  // One place maps errors to HTTP status (STYLE.md). A 5xx answer says only what kind of fault and
  // a reference; the message (paths, hosts, SQL) goes to the log under that reference.
  app.setErrorHandler((e, req, reply) => {
    const status = isDfaError(e) ? httpStatusFor(e) : (e as { statusCode?: number }).statusCode ?? 500;
    const code = isDfaError(e) ? e.code : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    if (status >= 500) {
      deps.log.error('api error', { ref: req.id, code, error: (e as Error).message });
      void reply.status(status).send({ error: code, message: `internal error (ref ${req.id}); see the server log` });
      return;
    }
    void reply.status(status).send({
      error: code,
      message: (e as Error).message,
      ...(isDfaError(e) && Object.keys(e.details).length ? { details: e.details } : {}),
    });
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.status(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/openapi.json', async () => openApiDocument(deps.version));

  app.post('/goals', async (req, reply) => {
    const parsed = GoalRequest.safeParse(req.body);
    if (!parsed.success) throw new DfaError('GOAL_UNSUPPORTED', `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const plan = await deps.plan(parsed.data.goal, parsed.data.planner);
    const caller = callerOf(req);
    const startedBy = `${caller.via}:${caller.subject}${caller.name ? ` (${caller.name})` : ''}`;
    const { runId } = await deps.startRun(plan, { dryRun: parsed.data.dryRun, startedBy });
    deps.log.info('goal run started', { runId, by: startedBy });
    return reply
      .status(202)
      .header('location', `/runs/${encodeURIComponent(runId)}`)
      .send({ runId, plan, links: { run: `/runs/${encodeURIComponent(runId)}`, events: `/events?runId=${encodeURIComponent(runId)}` } });
  });

  app.get('/runs', async () => (await deps.audit.listRuns(50)).map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) })));
  /** `?phi=1` shows names and MRNs to callers allowed to see them; `x-dfa-phi` says which the answer holds. */
  const showPhi = (req: FastifyRequest, reply: { header: (k: string, v: string) => unknown }): boolean => {
    // Default: operators and admins (no API auth on loopback = admin); viewers see masked MRNs only.
    const phi = wantsPhi(req.query) && maySeePhi(req);
    reply.header('x-dfa-phi', phi ? 'shown' : 'masked');
    return phi;
  };
  const maySeePhi = (req: FastifyRequest): boolean => (deps.canSeePhi ?? ((r: FastifyRequest) => callerOf(r).role !== 'viewer'))(req);
  if (deps.archive) registerArchiveRoutes(app, { query: deps.archive.query, maySeePhi, showPhi });

  app.get<{ Params: { runId: string }; Querystring: { phi?: string } }>('/runs/:runId', async (req, reply) => {
    const run = await deps.getRun(req.params.runId);
    if (!run) throw new DfaError('ARTIFACT_NOT_FOUND', `no goal run '${req.params.runId}'`);
    const jobs = await deps.audit.listJobs({ runId: run.runId });
    const phi = showPhi(req, reply);
    return { ...run, startedAt: iso(run.startedAt), finishedAt: iso(run.finishedAt), jobs: jobs.map((j) => jobView(j, phi, deps.viewerUrl)) };
  });
  // Plain GET /jobs (or ?runId=) answers as before; status, q, from, to, limit, offset filter and
  // page in SQL, and x-total-count says how many match in all.
  app.get<{ Querystring: JobListQuery }>('/jobs', async (req, reply) => {
    const phi = showPhi(req, reply);
    const search = jobSearchFrom(req.query, phi);
    if (!search) return (await deps.audit.listJobs({ runId: req.query.runId })).map((j) => jobView(j, phi, deps.viewerUrl));
    const { jobs, total } = await deps.audit.searchJobs(search);
    void reply.header('x-total-count', String(total));
    return jobs.map((j) => jobView(j, phi, deps.viewerUrl));
  });
  app.get<{ Params: { jobKey: string }; Querystring: { phi?: string } }>('/jobs/:jobKey', async (req, reply) => {
    const job = await deps.audit.getJob(req.params.jobKey);
    if (!job) throw new DfaError('ARTIFACT_NOT_FOUND', `no job '${req.params.jobKey}'`);
    const view = jobView(job, showPhi(req, reply), deps.viewerUrl);
    return { job: view, previews: view.previews, events: (await deps.audit.events(job.jobKey)).map(eventView) };
  });
  let streams = 0;
  const maxStreams = deps.maxStreams ?? 32;
  app.get<{ Querystring: { runId?: string; after?: string } }>('/events', async (req, reply) => {
    if (streams >= maxStreams) throw new DfaError('API_RATE_LIMITED', `too many open event streams (${maxStreams}; DFA_API_MAX_STREAMS)`);
    // after=latest: only what happens from now on (a dashboard that has just loaded the current state).
    const from = req.headers['last-event-id'] ?? req.query.after ?? 0;
    const lastId = from === 'latest' ? ((await deps.latestEventId?.()) ?? 0) : Number(from) || 0;
    streams++;
    req.raw.once('close', () => streams--);
    streamEvents(req.raw, reply, { after: lastId, runId: req.query.runId, pollMs: deps.ssePollMs ?? 500, eventsAfter: deps.eventsAfter, log: deps.log });
  });
  if (deps.reviews) {
    // The reviewer is the authenticated caller (recorded in the audit and as FHIR Provenance verifier).
    const reviewer = (req: FastifyRequest) => {
      const c = callerOf(req);
      return c.via === 'none' ? undefined : `${c.name ?? c.subject} (${c.via}:${c.subject})`;
    };
    registerReviewRoutes(app, { ...deps.reviews, getJob: (k) => deps.audit.getJob(k), callerOf: reviewer });
  }
  return app;
}
