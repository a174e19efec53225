/**
 * The deployment's topology for tests, as local OS processes on loopback: the e2e world (a real
 * Orthanc with DICOMweb, the embedded FHIR server, the demo's worklist seeded), a real PostgreSQL,
 * a real S3-protocol server (s3rver) behind the storage service, and every service its own
 * `dfa service` process (src/serve/topology.ts: storage, ml ×N, dicom with the SCP Orthanc knows,
 * fhir). `agentEnv` points an agent process (`dfa run`, `dfa worker`) at all of them.
 */
import { join } from 'node:path';
import { startTopology, type Topology } from '../../src/serve/topology.ts';
import type { DfaProcess } from '../../src/serve/service-process.ts';
import { spawnDfaProcess } from '../../src/serve/service-process.ts';
import { startWorld, type World } from '../e2e/world.ts';
import { startPostgres, type PostgresHandle } from './postgres.ts';
import { freePort } from './ports.ts';
import { startTestS3, type TestS3 } from './s3-server.ts';

export const TOPOLOGY_TOKEN = 'topology-test-token-0123456789abcdef';

export interface TopologyWorld {
  readonly world: World;
  readonly pg: PostgresHandle;
  readonly s3: TestS3;
  readonly topo: Topology;
  /** DFA_* settings of an agent process (own data dir, a free SCP port nobody pushes to). */
  agentEnv(name: string): Promise<Record<string, string>>;
  /** `dfa <args>` as an agent process of this topology. */
  agent(name: string, args: readonly string[], extra?: Record<string, string>): Promise<DfaProcess>;
  stop(): Promise<void>;
}

export async function startTopologyWorld(o: { ctStudies?: number; mlReplicas?: number; mlLogLevel?: string } = {}): Promise<TopologyWorld> {
  const pg = await startPostgres();
  const stops: (() => Promise<void>)[] = [() => pg.stop()];
  const agents: DfaProcess[] = [];
  const stop = async () => {
    for (const a of agents) await a.stop('SIGTERM').catch(() => undefined);
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const s3 = await startTestS3('dfa-topology');
    stops.push(() => s3.stop());
    const world = await startWorld({ ctStudies: o.ctStudies ?? 3, databaseUrl: pg.url });
    stops.push(() => world.stop());
    const w = world.env();
    const pick = (re: RegExp) => Object.fromEntries(Object.entries(w).filter(([k]) => re.test(k)));
    const names = Array.from({ length: o.mlReplicas ?? 2 }, (_, i) => `ml-${i + 1}`);
    const topo = await startTopology({
      root: join(world.root, 'services'),
      mlReplicas: o.mlReplicas ?? 2,
      // The gateway takes the SCP port Orthanc knows as DFA (C-MOVE destination).
      dicomEnv: pick(/^DFA_(PACS_|DICOMWEB_|AET$|SCP_PORT$)/),
      fhirEnv: pick(/^DFA_FHIR_/),
      storageEnv: s3.env('topology'),
      commonEnv: { DFA_API_AUTH: 'token', DFA_API_TOKEN: TOPOLOGY_TOKEN, DFA_LOG_LEVEL: 'warn' },
      envFor: Object.fromEntries(names.map((n) => [n, { DFA_LOG_LEVEL: o.mlLogLevel ?? 'info' }])),
    });
    stops.push(() => topo.stop());
    const agentEnv = async (name: string) => ({
      ...topo.agentEnv,
      DFA_DATABASE_URL: pg.url,
      DFA_DATA_DIR: join(world.root, name),
      DFA_SCP_PORT: String(await freePort()),
      DFA_LOG_LEVEL: 'info',
    });
    return {
      world,
      pg,
      s3,
      topo,
      agentEnv,
      async agent(name, args, extra = {}) {
        const p = spawnDfaProcess({ name, args, env: { ...(await agentEnv(name)), ...extra } });
        agents.push(p);
        return p;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
