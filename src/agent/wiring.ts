import type { Config } from '../core/config.ts';
import { DfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { pacsFromConfig } from '../dicom/pacs-from-config.ts';
import type { DicomPacs } from '../dicom/pacs.ts';
import { writeRtstruct } from '../dicom/rtstruct/write.ts';
import { writeSeg } from '../dicom/seg/write.ts';
import { loadVolume } from '../dicom/volume/index.ts';
import { fhirFromConfig } from '../fhir/fhir-from-config.ts';
import { openDatabase, type Database } from '../storage/db.ts';
import { RemoteMl } from '../remote/ml.ts';
import { serviceClientAuth, ServiceClient } from '../remote/service-client.ts';
import { agentArtifactStore } from './artifacts-from-config.ts';
import type { JobDeps } from './jobs/deps.ts';
import { outageGuardFromConfig } from './outage-from-config.ts';
import { fhirServiceReadyUrl, remoteFhirFromConfig, remotePacsFromConfig } from './remote-from-config.ts';
import { segmenterRegistry } from './segmenters.ts';

/**
 * The composition root: real services from Config, in one place (DESIGN.md "Contracts"). Unset
 * PACS / FHIR ⇒ the embedded dev servers; DFA_DICOM_URL / DFA_FHIR_SERVICE_URL / DFA_ML_URL /
 * DFA_STORAGE_SERVICE_URL ⇒ the dicom_handler / fhir_handler / ml_processor / storage_service over
 * HTTP (src/remote), in process otherwise. Tests and the demo pass `overrides` to swap any part.
 */
export interface Services {
  readonly deps: JobDeps;
  close(): Promise<void>;
}

export interface WireOptions {
  readonly overrides?: Partial<JobDeps>;
  /** Check that the PACS answers C-ECHO before any job starts (exit 2 when it does not). */
  readonly checkPacs?: boolean;
}

export async function wireServices(cfg: Config, log: Logger, opts: WireOptions = {}): Promise<Services> {
  const o = opts.overrides ?? {};
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((e: unknown) => log.warn('close failed', { error: toDfaError(e).message }));
  };
  try {
    const artifacts = o.artifacts ?? agentArtifactStore(cfg);
    let pacs = o.pacs;
    const remotePacs = pacs ? undefined : remotePacsFromConfig(cfg, artifacts, log);
    if (remotePacs) pacs = remotePacs;
    if (!pacs) {
      const p = await pacsFromConfig(cfg, log);
      closers.push(() => p.close());
      pacs = p;
    }
    if (opts.checkPacs) {
      await pacs.echo().catch((e: unknown) => {
        throw new DfaError('SERVICE_UNREACHABLE', `PACS does not answer C-ECHO: ${toDfaError(e).message}`, { cause: e });
      });
    }
    let fhir = o.fhir;
    let fhirBaseUrl = cfg.DFA_FHIR_URL;
    const remoteFhir = fhir ? undefined : remoteFhirFromConfig(cfg);
    if (remoteFhir) fhir = remoteFhir;
    if (!fhir) {
      const f = await fhirFromConfig(cfg, log);
      closers.push(() => f.close());
      fhir = f.workflow;
      fhirBaseUrl = f.client.baseUrl;
    }
    let outage = o.outage;
    if (!outage) {
      // Through the dicom_handler, its echo (C-ECHO, or a QIDO-RS without DIMSE) stands for the PACS either way.
      const dimse = remotePacs ?? (pacs as DicomPacs).dimse;
      const guard = outageGuardFromConfig(
        cfg,
        {
          dimseEcho: dimse ? () => pacs.echo() : undefined,
          dicomwebUrl: remotePacs ? undefined : cfg.DFA_DICOMWEB_URL,
          fhirBaseUrl,
          fhirServiceReadyUrl: remoteFhir ? fhirServiceReadyUrl(cfg) : undefined,
        },
        log,
      );
      closers.push(async () => guard.close());
      outage = guard;
    }
    let segment = o.segment;
    let volumeHost: JobDeps['volumeHost'];
    if (!segment && cfg.DFA_ML_URL) {
      // ml_processor replicas over HTTP; volumes and labels go by key through `artifacts`, which they must share.
      const auth = serviceClientAuth(cfg);
      const replicas = cfg.DFA_ML_URL.map((baseUrl) => new ServiceClient({ service: 'ml_processor', baseUrl, auth, timeoutMs: cfg.DFA_SERVICE_TIMEOUT_MS }));
      const ml = new RemoteMl({ replicas, store: artifacts, log, timeoutMs: cfg.DFA_ML_TIMEOUT_MS });
      segment = ml.segment;
      volumeHost = ml.volumes; // the volume is loaded where it is segmented: the study crosses the network once
    }
    if (!segment) {
      const reg = segmenterRegistry(cfg, log);
      closers.push(() => reg.close());
      segment = reg.segment;
    }
    const deps: JobDeps = {
      pacs,
      fhir,
      artifacts,
      loadVolume: o.loadVolume ?? ((files) => loadVolume(files)),
      segment,
      ...(volumeHost ? { volumeHost } : {}),
      writeRtstruct: o.writeRtstruct ?? (async (i) => writeRtstruct({ volume: i.volume, labels: i.labels, manifest: i.manifest })),
      writeSeg: o.writeSeg ?? (async (i) => writeSeg({ volume: i.volume, labels: i.labels, manifest: i.manifest })),
      outage,
      log: o.log ?? log,
    };
    return { deps, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Database + services, as `dfa run` and `dfa worker` need them. */
export async function openAgent(cfg: Config, log: Logger, opts: WireOptions = {}): Promise<Services & { db: Database }> {
  const db = await openDatabase(cfg);
  try {
    const s = await wireServices(cfg, log, opts);
    return {
      db,
      deps: s.deps,
      close: async () => {
        await s.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
