/**
 * The Pacs the configuration describes (DESIGN.md "Contracts"): DFA_PACS_HOST/PORT/AET for DIMSE,
 * DFA_DICOMWEB_URL for DICOMweb; with neither, the embedded dev PACS under DFA_DATA_DIR/pacs is
 * started in this process and used over DIMSE on loopback.
 */
import { join, resolve } from 'node:path';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { dicomWebAuthFromConfig } from './dicomweb/auth.ts';
import type { DimseTimeouts } from './dimse/association.ts';
import { EmbeddedPacs } from './embedded-pacs/embedded-pacs.ts';
import { createPacs, type DicomPacs } from './pacs.ts';
import { dimseLimits } from './dimse/limits.ts';
import { allowedPeers } from './scp/peers.ts';
import type { DicomScp } from './scp/receiver.ts';
import { tlsFromConfig } from './tls-from-config.ts';

export const EMBEDDED_PACS_AET = 'DFA_PACS';

export function dimseTimeouts(config: Config): DimseTimeouts {
  return {
    connectMs: config.DFA_DIMSE_CONNECT_TIMEOUT_MS,
    associationMs: config.DFA_DIMSE_ASSOCIATION_TIMEOUT_MS,
    dimseMs: config.DFA_DIMSE_TIMEOUT_MS,
    idleMs: config.DFA_DIMSE_IDLE_TIMEOUT_MS,
  };
}

/** The host our SCP binds and announces (DFA_SCP_HOST, default loopback). */
export function scpHost(config: Config): string {
  return config.DFA_SCP_HOST;
}

export interface ConfiguredPacs extends DicomPacs {
  /** Set when the embedded dev PACS was started for this Pacs. */
  readonly embedded?: EmbeddedPacs;
}

export async function pacsFromConfig(config: Config, log: Logger, opts: { scp?: DicomScp } = {}): Promise<ConfiguredPacs> {
  const timeouts = dimseTimeouts(config);
  const host = scpHost(config);
  const limits = dimseLimits(config);
  const peers = allowedPeers(config);
  const tls = config.DFA_PACS_TLS || config.DFA_SCP_TLS ? tlsFromConfig(config) : undefined;
  const scpTls = config.DFA_SCP_TLS ? { tls } : {};
  const moveScp = opts.scp ?? {
    host, port: config.DFA_SCP_PORT, inboxDir: join(config.DFA_DATA_DIR, 'inbox'), limits, maxAssociations: config.DFA_SCP_MAX_ASSOCIATIONS,
    ...(peers ? { allowedPeers: peers } : {}), ...scpTls,
  };
  const dicomweb = config.DFA_DICOMWEB_URL
    ? { baseUrl: config.DFA_DICOMWEB_URL, username: config.DFA_DICOMWEB_USERNAME, password: config.DFA_DICOMWEB_PASSWORD, token: config.DFA_DICOMWEB_TOKEN, auth: dicomWebAuthFromConfig(config) }
    : undefined;
  if (config.DFA_PACS_HOST || dicomweb) {
    const dimse = config.DFA_PACS_HOST && config.DFA_PACS_PORT && config.DFA_PACS_AET
      ? { host: config.DFA_PACS_HOST, port: config.DFA_PACS_PORT, calledAet: config.DFA_PACS_AET, callingAet: config.DFA_AET, timeouts, limits, ...(config.DFA_PACS_TLS ? { tls } : {}) }
      : undefined;
    return createPacs({ dimse, dicomweb, retrieve: config.DFA_RETRIEVE, store: config.DFA_STORE, moveScp, log });
  }
  const { embedded, release } = await acquireEmbedded(join(config.DFA_DATA_DIR, 'pacs'), log, timeouts);
  // The embedded PACS is plain DICOM on loopback; it reaches our SCP over TLS when DFA_SCP_TLS is on.
  embedded.addKnownAe(config.DFA_AET, { host: moveScp.host, port: moveScp.port, ...scpTls });
  // DICOMweb is not served by the embedded PACS: keep the DIMSE methods of DFA_RETRIEVE.
  const retrieve = config.DFA_RETRIEVE.filter((m) => m !== 'wado-rs');
  const pacs = createPacs({
    dimse: { host: embedded.host, port: embedded.port, calledAet: embedded.aet, callingAet: config.DFA_AET, timeouts, limits },
    retrieve: retrieve.length > 0 ? retrieve : ['c-get'],
    store: 'c-store',
    moveScp,
    log,
  });
  return {
    embedded,
    dimse: pacs.dimse,
    web: pacs.web,
    echo: () => pacs.echo(),
    findStudies: (q) => pacs.findStudies(q),
    findSeries: (s, q) => pacs.findSeries(s, q),
    findInstances: (s, r) => pacs.findInstances(s, r),
    retrieve: (r, d) => pacs.retrieve(r, d),
    store: (f) => pacs.store(f),
    async close() {
      await pacs.close();
      await release();
    },
  };
}

/**
 * One embedded PACS per directory per process, shared by every Pacs made from the configuration
 * (a worker running jobs side by side): two nodes over one index would not see each other's stores.
 */
const running = new Map<string, { started: Promise<EmbeddedPacs>; refs: number }>();

async function acquireEmbedded(dir: string, log: Logger, timeouts: DimseTimeouts): Promise<{ embedded: EmbeddedPacs; release(): Promise<void> }> {
  const key = resolve(dir);
  let entry = running.get(key);
  if (!entry) {
    entry = { started: EmbeddedPacs.start({ dir, aet: EMBEDDED_PACS_AET, host: '127.0.0.1', port: 0, log, timeouts }), refs: 0 };
    running.set(key, entry);
    entry.started.catch(() => running.delete(key));
  }
  entry.refs++;
  const e = entry;
  const embedded = await e.started;
  let released = false;
  return {
    embedded,
    async release() {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      running.delete(key);
      await embedded.close();
    },
  };
}
