import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { authFromConfig } from './auth.ts';
import { FhirClient } from './client.ts';
import { startFhirServer, type FhirServer } from './dev-server/server.ts';
import { FhirImagingWorkflow } from './imaging-workflow.ts';

export interface ConfiguredFhir {
  readonly client: FhirClient;
  /** The ImagingFhir port. */
  readonly workflow: FhirImagingWorkflow;
  /** Set when the embedded dev FHIR server was started for this configuration. */
  readonly embedded?: FhirServer;
  close(): Promise<void>;
}

/** A FhirClient for DFA_FHIR_URL with DFA_FHIR_AUTH and DFA_FHIR_TIMEOUT_MS. */
export function fhirClientFromConfig(config: Config, log: Logger, baseUrl = config.DFA_FHIR_URL): FhirClient {
  if (!baseUrl) throw new Error('fhirClientFromConfig: no FHIR base URL');
  return new FhirClient({ baseUrl, auth: authFromConfig(config), timeoutMs: config.DFA_FHIR_TIMEOUT_MS, log: log.child({ svc: 'fhir' }) });
}

/**
 * The FHIR side the configuration describes (DESIGN.md "Contracts"): DFA_FHIR_URL if set,
 * otherwise the embedded dev server persisted under DFA_DATA_DIR/fhir, on a loopback port.
 */
export async function fhirFromConfig(config: Config, log: Logger): Promise<ConfiguredFhir> {
  const opts = { mrnSystem: config.DFA_FHIR_MRN_SYSTEM, log: log.child({ svc: 'fhir' }) };
  if (config.DFA_FHIR_URL) {
    const client = fhirClientFromConfig(config, log);
    return { client, workflow: new FhirImagingWorkflow(client, opts), close: async () => {} };
  }
  const embedded = await startFhirServer({ dataDir: join(config.DFA_DATA_DIR, 'fhir'), host: '127.0.0.1', port: 0 });
  const client = new FhirClient({ baseUrl: embedded.url, timeoutMs: config.DFA_FHIR_TIMEOUT_MS, log: opts.log });
  return { client, workflow: new FhirImagingWorkflow(client, opts), embedded, close: () => embedded.stop() };
}
