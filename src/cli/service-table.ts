import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { ServiceDefinition } from '../services/service-server.ts';

/**
 * The services `dfa service <name>` starts: each builds its definition (routes, upstreams) from
 * the configuration. The CLI composes them here because it may import every layer; the services
 * themselves (src/services) get their ports injected.
 */
export interface ServiceEntry {
  /** DFA_SERVICE_PORT / --port when unset. */
  readonly defaultPort: number;
  readonly summary: string;
  build(cfg: Config, log: Logger): Promise<ServiceDefinition>;
}

export const SERVICES: Readonly<Record<string, ServiceEntry>> = {};
