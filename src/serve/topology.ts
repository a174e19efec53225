import { join } from 'node:path';
import { freePort } from '../agent/free-port.ts';
import { spawnDfaProcess, waitReady, type DfaProcess } from './service-process.ts';

/**
 * The deployment's topology as local OS processes on loopback (docker-compose.yml, one process per
 * container): the storage service, N ml_processor replicas, the DICOM gateway and the FHIR handler,
 * each `dfa service <name>` on a free port, started in dependency order (storage first: ml and
 * dicom keep their artifacts there) and each waited for at /ready. What they talk to — the PACS,
 * the FHIR server, the object store — comes in as settings; `agentEnv` is what the agent's own
 * processes (`dfa run`, `dfa worker`, `dfa serve`) need to reach every service remotely.
 * Used by `dfa demo --services`, the topology test and bench:e2e.
 */
export interface TopologyOptions {
  /** Parent folder of each process's DFA_DATA_DIR. */
  readonly root: string;
  /** ml_processor replicas (default 2). */
  readonly mlReplicas?: number;
  /** Settings of the DICOM gateway: DFA_PACS_*, DFA_DICOMWEB_URL, DFA_SCP_PORT, DFA_AET, DFA_RETRIEVE… */
  readonly dicomEnv: Readonly<Record<string, string>>;
  /** Settings of the FHIR handler: DFA_FHIR_URL and its DFA_FHIR_AUTH… */
  readonly fhirEnv: Readonly<Record<string, string>>;
  /** Settings of the storage service: DFA_STORAGE_URL (s3://…) and DFA_S3_*; empty = its local disk. */
  readonly storageEnv?: Readonly<Record<string, string>>;
  /**
   * A store every process reaches itself (DFA_STORAGE_URL: a folder they all mount, as a volume shared
   * by the containers of one host): ml and dicom read and write artifacts there directly instead of
   * through the storage service's HTTP API, which then serves the archive only. Default: through it.
   */
  readonly sharedStorageUrl?: string;
  /** Settings every process gets (DFA_LOG_LEVEL, DFA_API_AUTH + DFA_API_TOKEN…). */
  readonly commonEnv?: Readonly<Record<string, string>>;
  /** Extra settings for one process by name (e.g. { 'ml-1': { DFA_LOG_LEVEL: 'info' } }). */
  readonly envFor?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Node flags of every service process. */
  readonly nodeArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** Told about each process once it is ready. */
  readonly onReady?: (p: DfaProcess) => void;
}

export interface Topology {
  readonly storage: DfaProcess;
  readonly ml: readonly DfaProcess[];
  readonly dicom: DfaProcess;
  readonly fhir: DfaProcess;
  readonly all: readonly DfaProcess[];
  /** DFA_* settings of an agent process that uses every service over HTTP. */
  readonly agentEnv: Readonly<Record<string, string>>;
  /** SIGTERM to every process still running (reverse start order), then waits for them all. */
  stop(): Promise<void>;
}

export async function startTopology(o: TopologyOptions): Promise<Topology> {
  const started: DfaProcess[] = [];
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop('SIGTERM');
  };
  const common = o.commonEnv ?? {};
  const token = common.DFA_API_TOKEN;
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const launch = async (name: string, service: string, env: Record<string, string>): Promise<DfaProcess> => {
    const port = await freePort();
    const p = spawnDfaProcess({
      name,
      args: ['service', service, '--port', String(port), '--host', '127.0.0.1'],
      env: { ...common, DFA_DATA_DIR: join(o.root, name), ...env, ...(o.envFor?.[name] ?? {}) },
      nodeArgs: o.nodeArgs,
      url: `http://127.0.0.1:${port}`,
    });
    started.push(p);
    return p;
  };
  const ready = async (ps: DfaProcess[]) => {
    await Promise.all(ps.map((p) => waitReady(p, { timeoutMs: o.readyTimeoutMs ?? 60_000, headers })));
    for (const p of ps) o.onReady?.(p);
  };
  try {
    const shared = o.sharedStorageUrl ? { DFA_STORAGE_URL: o.sharedStorageUrl } : undefined;
    const storage = await launch('storage', 'storage', { ...(o.storageEnv ?? {}), ...(shared ?? {}) });
    await ready([storage]);
    const viaStorage: Record<string, string> = shared ?? { DFA_STORAGE_SERVICE_URL: storage.url! };
    const ml: DfaProcess[] = [];
    for (let i = 1; i <= (o.mlReplicas ?? 2); i++) ml.push(await launch(`ml-${i}`, 'ml', viaStorage));
    const dicom = await launch('dicom', 'dicom', { ...o.dicomEnv, ...viaStorage });
    const fhir = await launch('fhir', 'fhir', { ...o.fhirEnv });
    await ready([...ml, dicom, fhir]);
    return {
      storage,
      ml,
      dicom,
      fhir,
      all: started,
      agentEnv: {
        ...common,
        ...viaStorage,
        DFA_ML_URL: ml.map((p) => p.url!).join(','),
        DFA_DICOM_URL: dicom.url!,
        DFA_FHIR_SERVICE_URL: fhir.url!,
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
