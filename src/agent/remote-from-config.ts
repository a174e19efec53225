import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { ArtifactStore } from '../core/ports.ts';
import { RemoteFhir } from '../remote/fhir.ts';
import { RemotePacs } from '../remote/pacs.ts';
import { ServiceClient, serviceClientAuth } from '../remote/service-client.ts';

/**
 * The dicom_handler and fhir_handler over HTTP when DFA_DICOM_URL / DFA_FHIR_SERVICE_URL are set
 * (undefined otherwise: the agent then runs the PACS / FHIR client in process, the default).
 * Retrieved and stored DICOM moves by key through `artifacts`, which the dicom service must share
 * (the same DFA_DATA_DIR on one machine, or the same storage service / object store).
 */
export function remotePacsFromConfig(cfg: Config, artifacts: ArtifactStore, log: Logger): RemotePacs | undefined {
  if (!cfg.DFA_DICOM_URL) return undefined;
  const client = new ServiceClient({ service: 'dicom_handler', baseUrl: cfg.DFA_DICOM_URL, auth: serviceClientAuth(cfg), timeoutMs: cfg.DFA_SERVICE_TIMEOUT_MS });
  return new RemotePacs({ client, store: artifacts, log: log.child({ svc: 'dicom-remote' }), retrieveTimeoutMs: cfg.DFA_DICOM_RETRIEVE_TIMEOUT_MS });
}

export function remoteFhirFromConfig(cfg: Config): RemoteFhir | undefined {
  if (!cfg.DFA_FHIR_SERVICE_URL) return undefined;
  return new RemoteFhir(new ServiceClient({ service: 'fhir_handler', baseUrl: cfg.DFA_FHIR_SERVICE_URL, auth: serviceClientAuth(cfg), timeoutMs: cfg.DFA_SERVICE_TIMEOUT_MS }));
}

/** What the outage guard probes for FHIR behind the fhir_handler: its /ready (503 while FHIR /metadata does not answer). */
export function fhirServiceReadyUrl(cfg: Config): string | undefined {
  return cfg.DFA_FHIR_SERVICE_URL ? `${cfg.DFA_FHIR_SERVICE_URL.replace(/\/+$/, '')}/ready` : undefined;
}
