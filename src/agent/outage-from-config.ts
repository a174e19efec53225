import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { OutageGuard, type Probe, type Upstream } from './jobs/outage.ts';

/** Gateway answers: a proxy is up but the server behind it is not (RFC 9110 15.6.3-15.6.5). */
const UNREACHABLE_STATUS = new Set([502, 503, 504]);

/** Any HTTP answer but 502/503/504 proves the server is up (401 included: it answered). */
export function httpProbe(url: string): Probe {
  return async (signal) => {
    const res = await fetch(url, { signal, headers: { accept: 'application/json, application/fhir+json' } });
    await res.arrayBuffer().catch(() => undefined);
    if (UNREACHABLE_STATUS.has(res.status)) throw new Error(`${url.split('?')[0]} answered HTTP ${res.status}`);
  };
}

export interface ProbeTargets {
  /** The PACS over DIMSE: probed with C-ECHO (PS3.7 9.1.5). */
  readonly dimseEcho?: () => Promise<unknown>;
  /** The FHIR base URL: probed with GET [base]/metadata (FHIR R4 3.1.0.9 capabilities). */
  readonly fhirBaseUrl?: string;
  /** Instead of fhirBaseUrl: the fhir_handler's GET /ready (down, or 503 while the FHIR server does not answer). */
  readonly fhirServiceReadyUrl?: string;
  /** The DICOMweb base URL: probed with a QIDO-RS that matches nothing (PS3.18 10.6). */
  readonly dicomwebUrl?: string;
}

/** The outage guard (circuit breaker per upstream) for the configured PACS, DICOMweb and FHIR. */
export function outageGuardFromConfig(cfg: Config, t: ProbeTargets, log: Logger): OutageGuard {
  const probes: Partial<Record<Upstream, Probe>> = {};
  if (t.dimseEcho) {
    const echo = t.dimseEcho;
    probes.pacs = async () => void (await echo());
  }
  if (t.dicomwebUrl) probes.dicomweb = httpProbe(`${t.dicomwebUrl.replace(/\/+$/, '')}/studies?StudyInstanceUID=0&limit=1`);
  if (t.fhirServiceReadyUrl) probes.fhir = httpProbe(t.fhirServiceReadyUrl);
  else if (t.fhirBaseUrl) probes.fhir = httpProbe(`${t.fhirBaseUrl.replace(/\/+$/, '')}/metadata`);
  return new OutageGuard(probes, {
    waitMs: cfg.DFA_OUTAGE_WAIT,
    probeMs: cfg.DFA_OUTAGE_PROBE_MS,
    probeMaxMs: cfg.DFA_OUTAGE_PROBE_MAX_MS,
    probeTimeoutMs: cfg.DFA_OUTAGE_PROBE_TIMEOUT_MS,
    log: log.child({ component: 'outage' }),
  });
}
