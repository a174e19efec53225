import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { apiAuthFromConfig } from '../net/api-auth.ts';
import { registerDashboard } from '../api/dashboard.ts';
import { defaultAllowedHosts } from '../net/api-guard.ts';
import { buildApi } from '../api/server.ts';
import { submitReview } from '../agent/review.ts';
import type { Config, StoreMethod } from '../core/config.ts';
import { DfaError, toDfaError } from '../core/errors.ts';
import { stripUrlCredentials } from '../core/redact.ts';
import type { Logger } from '../core/log.ts';
import { DicomWebServer } from '../dicom/dicomweb/server.ts';
import { pacsFromConfig } from '../dicom/pacs-from-config.ts';
import type { EmbeddedPacs } from '../dicom/embedded-pacs/embedded-pacs.ts';
import type { ImagingFhir, Pacs } from '../core/ports.ts';
import { scpFromConfig, type DicomScp } from '../dicom/scp/receiver.ts';
import { fhirFromConfig, type ConfiguredFhir } from '../fhir/fhir-from-config.ts';
import { registerStudy } from '../fhir/register-study.ts';
import { AuditStore } from '../storage/audit.ts';
import { InboxStore } from '../storage/inbox-store.ts';
import { agentArtifactStore } from '../agent/artifacts-from-config.ts';
import { ResultsArchive } from '../storage/archive.ts';
import { eventsAfter, getRun, latestEventId } from '../storage/run-queries.ts';
import { startWorkers, type Workers } from '../agent/jobs/worker.ts';
import { livenessFromConfig } from '../agent/jobs/liveness.ts';
import type { Plan } from '../agent/plan.ts';
import { planGoal } from '../agent/planner/index.ts';
import { httpProbe, outageGuardFromConfig } from '../agent/outage-from-config.ts';
import { fhirServiceReadyUrl, remoteFhirFromConfig, remotePacsFromConfig } from '../agent/remote-from-config.ts';
import { openAgent } from '../agent/wiring.ts';
import { BackgroundRuns } from './background-runs.ts';
import { readinessFrom } from '../net/readiness.ts';
import { rescanInbox } from './inbox-rescan.ts';
import { StandingGoal } from './standing-goal.ts';
import { ReceivedFeed } from './received-feed.ts';
import { packageVersion } from '../io/package-version.ts';

export interface ServeOptions {
  /** Per-probe limit for GET /ready (default 3000 ms). */
  readonly readinessTimeoutMs?: number;
  /** SSE poll interval of GET /events (default 500 ms). */
  readonly ssePollMs?: number;
}

/** A running `dfa serve`: what listens where, and how to stop it. */
export interface Served {
  readonly apiUrl: string;
  /** Our SCP; absent with DFA_DICOM_URL (the dicom_handler runs it). */
  readonly scp?: DicomScp;
  readonly pacs: Pacs & { readonly embedded?: EmbeddedPacs };
  /** The FHIR client in this process; absent with DFA_FHIR_SERVICE_URL (the fhir_handler owns it). */
  readonly fhir?: ConfiguredFhir;
  readonly dicomweb?: DicomWebServer;
  readonly standing?: StandingGoal;
  readonly runs: BackgroundRuns;
  /** One line per listening service, for the console. */
  readonly lines: readonly string[];
  /** Graceful stop: no new requests or pushes, workers finish their step, then everything closes. */
  close(): Promise<void>;
}

/**
 * A goal planned for this server. Its jobs run on the shared long-lived workers, which store with
 * one method (DFA_STORE; C-STORE for the embedded PACS): a goal asking for another is refused
 * with the reason, not run with a different one than it said.
 */
export async function planForServer(goal: string, cfg: Config, storeMethod: StoreMethod, planner?: 'rules' | 'llm'): Promise<Plan> {
  const plan = await planGoal(goal, cfg, { planner });
  const asked = plan.store.method;
  if (asked !== 'default' && asked !== storeMethod) {
    const missing = [`workers that store with ${asked}: this server stores with ${storeMethod} (DFA_STORE; the embedded PACS takes C-STORE only)`];
    throw new DfaError('GOAL_UNSUPPORTED', `cannot serve this goal — missing: ${missing[0]}`, { details: { understood: plan.understood, missing } });
  }
  return plan;
}


/**
 * `dfa serve` in one process: the database, long-lived workers, our SCP (also the C-MOVE
 * destination of the agent's retrievals), the PACS and FHIR from the configuration (embedded dev
 * servers when unset, the PACS with its DICOMweb face), the REST API, and the standing goal.
 * With DFA_DICOM_URL the PACS and our SCP are the dicom_handler's: pushes arrive there, and the
 * standing goal reads its list of received studies (received-feed.ts); with DFA_FHIR_SERVICE_URL
 * FHIR is the fhir_handler's.
 * A bad standing goal fails before anything starts (GOAL_UNSUPPORTED ⇒ exit 2).
 */
export async function startServe(cfg: Config, log: Logger, opts: ServeOptions = {}): Promise<Served> {
  // The embedded PACS is used over C-STORE whatever DFA_STORE says (pacsFromConfig).
  // Refuse an exposed, unauthenticated API before anything starts (CONFIG_INVALID ⇒ exit 2).
  const apiAuth = apiAuthFromConfig(cfg);
  const storeMethod: StoreMethod = cfg.DFA_PACS_HOST || cfg.DFA_DICOMWEB_URL || cfg.DFA_DICOM_URL ? cfg.DFA_STORE : 'c-store';
  if (cfg.DFA_STANDING_GOAL && cfg.DFA_STANDING_REGISTER && cfg.DFA_FHIR_SERVICE_URL) {
    throw new DfaError('CONFIG_INVALID', 'DFA_STANDING_REGISTER needs the FHIR client in this process, but with DFA_FHIR_SERVICE_URL the fhir_handler owns it: unset one of them');
  }
  const standingPlan: Plan | undefined = cfg.DFA_STANDING_GOAL ? await planForServer(cfg.DFA_STANDING_GOAL, cfg, storeMethod) : undefined;
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c.close().catch((e: unknown) => log.warn(`closing ${c.name} failed`, { error: toDfaError(e).message }));
    closers.length = 0;
  };
  try {
    const artifacts = agentArtifactStore(cfg); // DFA_STORAGE_SERVICE_URL: the storage service, with a local working copy
    const holder: { standing?: StandingGoal } = {};
    const remotePacs = remotePacsFromConfig(cfg, artifacts, log);
    let scp: DicomScp | undefined;
    let pacs: Pacs & { readonly embedded?: EmbeddedPacs; readonly dimse?: unknown };
    if (remotePacs) pacs = remotePacs;
    else {
      const ours = await scpFromConfig(cfg, { artifacts }, log.child({ svc: 'scp' }), (r, from) => holder.standing?.received(r, from)).start();
      scp = ours;
      closers.push({ name: 'SCP', close: () => ours.close() });
      const local = await pacsFromConfig(cfg, log, { scp: ours });
      closers.push({ name: 'PACS', close: () => local.close() });
      pacs = local;
    }
    const remoteFhir = remoteFhirFromConfig(cfg);
    const fhir = remoteFhir ? undefined : await fhirFromConfig(cfg, log);
    if (fhir) closers.push({ name: 'FHIR', close: () => fhir.close() });
    const fhirWorkflow: ImagingFhir = remoteFhir ?? fhir!.workflow;
    const fhirReady = remoteFhir ? httpProbe(fhirServiceReadyUrl(cfg)!) : () => fhir!.client.request('GET', 'metadata');
    const embedded = pacs.embedded;
    const dicomweb = embedded ? await DicomWebServer.start({ store: embedded.store, host: '127.0.0.1', port: 0, log: log.child({ svc: 'dicomweb' }) }) : undefined;
    if (dicomweb) closers.push({ name: 'DICOMweb', close: () => dicomweb.close() });

    const outage = outageGuardFromConfig(
      cfg,
      {
        dimseEcho: remotePacs || pacs.dimse ? () => pacs.echo() : undefined,
        dicomwebUrl: remotePacs ? undefined : cfg.DFA_DICOMWEB_URL,
        fhirBaseUrl: fhir?.client.baseUrl,
        fhirServiceReadyUrl: remoteFhir ? fhirServiceReadyUrl(cfg) : undefined,
      },
      log,
    );
    closers.push({ name: 'outage probes', close: async () => outage.close() });
    const agent = await openAgent(cfg, log, { overrides: { pacs, fhir: fhirWorkflow, artifacts, outage } });
    closers.push({ name: 'database', close: () => agent.close() });
    const workers: Workers = await startWorkers(agent.db, agent.deps, { concurrency: cfg.DFA_CONCURRENCY, liveness: livenessFromConfig(cfg) });
    closers.push({ name: 'workers', close: () => workers.stop() });
    const runs = new BackgroundRuns(agent.db, agent.deps, log);
    closers.push({ name: 'runs', close: () => runs.close() });
    if (agent.db.embedded) {
      const unfinished = (await new AuditStore(agent.db.pool).listRuns(100)).filter((r) => r.finishedAt === null);
      if (unfinished.length > 0) log.info('following runs left unfinished by an earlier start', { runs: unfinished.length });
      runs.resumeUnfinished(unfinished);
    }

    if (standingPlan) {
      const endpoint = dicomweb ? { address: dicomweb.url, connectionType: 'dicom-wado-rs' as const } : undefined;
      const standing = new StandingGoal({
        plan: standingPlan,
        quietMs: cfg.DFA_STANDING_GOAL_QUIET_MS,
        pacsAet: cfg.DFA_PACS_AET,
        // Through the dicom_handler the received files are already in the shared store: forwarded by key.
        forward: remotePacs ? (keys) => remotePacs.storeKeys(keys) : (files) => pacs.store(files),
        register: cfg.DFA_STANDING_REGISTER && fhir ? (uid) => registerStudy(fhir.client, pacs, uid, { serviceRequest: true, mrnSystem: cfg.DFA_FHIR_MRN_SYSTEM, endpoint }) : undefined,
        startRun: (plan) => runs.start(plan, { dryRun: false, startedBy: 'standing-goal' }),
        // Through the dicom_handler, the gateway removes its inbox files when the study is acknowledged.
        discard: remotePacs ? undefined : async (files) => void (await Promise.all(files.map((f) => rm(f, { force: true })))),
        store: new InboxStore(agent.db.pool),
        retryMs: cfg.DFA_STANDING_RETRY_MS,
        retryMaxMs: cfg.DFA_STANDING_RETRY_MAX_MS,
        log: log.child({ svc: 'standing-goal' }),
      });
      holder.standing = standing;
      closers.push({ name: 'standing goal', close: () => standing.close() });
      if (remotePacs) {
        // The dicom_handler's SCP received the pushes: read its list (every unacknowledged study, each start).
        const feed = new ReceivedFeed({
          source: remotePacs,
          standing,
          pollMs: cfg.DFA_STANDING_POLL_MS,
          pollMaxMs: Math.max(cfg.DFA_STANDING_POLL_MS, cfg.DFA_OUTAGE_PROBE_MAX_MS),
          retryMs: cfg.DFA_STANDING_RETRY_MS,
          retryMaxMs: cfg.DFA_STANDING_RETRY_MAX_MS,
          log: log.child({ svc: 'standing-goal' }),
        }).start();
        closers.push({ name: 'received studies feed', close: () => feed.close() });
      } else {
        // Nothing received is lost: what an earlier start left in the inbox is handled like a new push.
        await rescanInbox(join(artifacts.root, 'inbox'), standing, log.child({ svc: 'standing-goal' }));
      }
    }

    const probeMs = opts.readinessTimeoutMs ?? 3000;
    const api: FastifyInstance = buildApi({
      version: await packageVersion(),
      plan: (goal, planner) => planForServer(goal, cfg, storeMethod, planner),
      startRun: (plan, o) => runs.start(plan, o),
      audit: new AuditStore(agent.db.pool),
      archive: new ResultsArchive(artifacts, agent.db.pool),
      getRun: (id) => getRun(agent.db.pool, id),
      eventsAfter: (after, runId) => eventsAfter(agent.db.pool, after, runId),
      latestEventId: () => latestEventId(agent.db.pool),
      readiness: readinessFrom(
        {
          database: () => agent.db.pool.query('select 1'),
          pacs: () => pacs.echo(),
          fhir: () => fhirReady(AbortSignal.timeout(probeMs)),
        },
        probeMs,
      ),
      log: log.child({ svc: 'api' }),
      ssePollMs: opts.ssePollMs,
      viewerUrl: cfg.DFA_VIEWER_URL,
      reviews: {
        readArtifact: (key) => artifacts.get(key),
        review: (jobKey, d) => submitReview(agent.db, jobKey, d),
      },
      auth: apiAuth,
      allowedHosts: defaultAllowedHosts(cfg.DFA_API_HOST, cfg.DFA_API_ALLOWED_HOSTS),
      ratePerMinute: cfg.DFA_API_RATE_LIMIT,
      maxBodyBytes: cfg.DFA_API_MAX_BODY_KB * 1024,
      maxStreams: cfg.DFA_API_MAX_STREAMS,
    });
    registerDashboard(api);
    await api.listen({ host: cfg.DFA_API_HOST, port: cfg.DFA_API_PORT });
    closers.push({
      name: 'API',
      close: async () => {
        const closing = api.close();
        api.server.closeAllConnections(); // open /events streams would hold the close forever
        await closing;
      },
    });
    const addr = api.server.address();
    const apiUrl = `http://${cfg.DFA_API_HOST}:${typeof addr === 'object' && addr ? addr.port : cfg.DFA_API_PORT}`;

    const lines = [
      `REST API        ${apiUrl}/  (auth ${apiAuth.mode}; dashboard ${apiUrl}/, OpenAPI ${apiUrl}/openapi.json, events ${apiUrl}/events)`,
      scp ? `DICOM SCP       ${scp.aet}@${scp.host}:${scp.port}  (pushes → ${join(artifacts.root, 'inbox')})` : 'DICOM SCP       the dicom_handler\'s (DFA_DICOM_URL)',
      embedded
        ? `embedded PACS   ${embedded.aet}@${embedded.host}:${embedded.port}  DICOMweb ${dicomweb?.url ?? '-'}`
        : remotePacs
          ? `PACS            through the dicom_handler at ${stripUrlCredentials(cfg.DFA_DICOM_URL ?? '')}`
          : `PACS            ${cfg.DFA_PACS_HOST ? `${cfg.DFA_PACS_AET ?? ''}@${cfg.DFA_PACS_HOST}:${cfg.DFA_PACS_PORT ?? ''}` : ''}${cfg.DFA_DICOMWEB_URL ? `  DICOMweb ${stripUrlCredentials(cfg.DFA_DICOMWEB_URL)}` : ''}`,
      fhir ? `FHIR            ${fhir.client.baseUrl}${fhir.embedded ? '  (embedded dev server)' : ''}` : `FHIR            through the fhir_handler at ${stripUrlCredentials(cfg.DFA_FHIR_SERVICE_URL ?? '')}`,
      `workers         ${cfg.DFA_CONCURRENCY} on ${agent.db.embedded ? `embedded database in ${cfg.DFA_DATA_DIR}` : 'DFA_DATABASE_URL'}`,
      standingPlan
        ? `standing goal   "${standingPlan.goal}" on each pushed study after ${cfg.DFA_STANDING_GOAL_QUIET_MS} ms quiet${cfg.DFA_STANDING_REGISTER ? ', registered in FHIR first' : ''}${remotePacs ? ` (received by the dicom_handler, read every ${cfg.DFA_STANDING_POLL_MS} ms)` : ''}`
        : 'standing goal   none (set DFA_STANDING_GOAL to run one on pushed studies)',
    ];
    return { apiUrl, scp, pacs, fhir, dicomweb, standing: holder.standing, runs, lines, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
