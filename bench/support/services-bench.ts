/**
 * bench:e2e part 4 — the deployment's topology against the agent in one process: the same studies,
 * the same Orthanc and FHIR server, run by
 *   in-process (disk)        every port in the bench process, artifacts on local disk (today's default);
 *   in-process (S3)          the same with the artifact store on an S3-protocol server (s3rver, loopback);
 *   services (disk), 1 ml    storage / ml / dicom / fhir each `dfa service` process on loopback
 *                            (src/serve/topology.ts), storage on its local disk;
 *   services (S3), 1 ml      … the storage service on the S3-protocol server;
 *   services (S3), 2 ml      … with two ml_processor replicas (DFA_ML_URL lists both);
 *   services (shared volume), 1 ml  the services and the agent each reach one artifact folder
 *                            themselves (DFA_STORAGE_URL=file://…, a volume the containers of one
 *                            host share): the service split without the storage service's transfers.
 * The agent (planner, job graph, queue) runs in the bench process in every row (runPlan on its own
 * embedded PGlite), so a row differs from the first only by where the services run and where the
 * artifacts live. Per study: one 512×512×BENCH_SLICES study, one job at a time, BENCH_RUNS re-runs
 * each. Throughput: BENCH_TPUT_STUDIES studies, two jobs at a time (so a second ml replica can help).
 * What s3rver does not show: MinIO's or S3's own latency and throughput (s3rver keeps plain files).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPlan } from '../../src/agent/runner.ts';
import { openAgent } from '../../src/agent/wiring.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Logger } from '../../src/core/log.ts';
import { startTopology, type Topology } from '../../src/serve/topology.ts';
import { startTestS3, type TestS3 } from '../../test/support/s3-server.ts';
import { median, sec } from './bench-stats.ts';
import { rerunPlan, type BenchWorld } from './e2e-world.ts';

export interface ServicesConfig {
  readonly label: string;
  readonly services: boolean;
  readonly s3: boolean;
  readonly mlReplicas: number;
  /** Every process on one shared artifact folder instead of the storage service's API. */
  readonly shared?: boolean;
}

export const SERVICES_CONFIGS: readonly ServicesConfig[] = [
  { label: 'in-process (disk)', services: false, s3: false, mlReplicas: 0 },
  { label: 'in-process (S3)', services: false, s3: true, mlReplicas: 0 },
  { label: 'services (disk), 1 ml', services: true, s3: false, mlReplicas: 1 },
  { label: 'services (S3), 1 ml', services: true, s3: true, mlReplicas: 1 },
  { label: 'services (S3), 2 ml', services: true, s3: true, mlReplicas: 2 },
  { label: 'services (shared volume), 1 ml', services: true, s3: false, mlReplicas: 1, shared: true },
];

export interface ServicesRow {
  readonly config: ServicesConfig;
  /** Wall seconds of each single-study run. */
  readonly studyWalls: number[];
  /** Wall seconds of each throughput round. */
  readonly tputWalls: number[];
}

export interface ServicesBenchOptions {
  readonly runs: number;
  readonly rounds: number;
  /** Untimed one-study runs first in each configuration (JIT, worker threads, caches: the first run is slower). */
  readonly warmup: number;
  readonly studyUid: string;
  readonly tputUids: readonly string[];
  readonly log: Logger;
  readonly say: (s: string) => void;
  readonly configs?: readonly ServicesConfig[];
}

/** One configuration's agent settings, and what must be stopped after it. */
async function setUp(w: BenchWorld, c: ServicesConfig, s3: TestS3, n: number): Promise<{ env: Record<string, string>; topo?: Topology }> {
  const root = join(w.root, `svc-${n}`);
  const storageEnv = c.s3 ? s3.env(`bench-${n}`) : {};
  const base = w.env({ DFA_DATA_DIR: join(root, 'agent') });
  if (!c.services) return { env: { ...base, ...storageEnv } };
  const scpPort = String(w.scpPort());
  const dicomEnv = Object.fromEntries(Object.entries(base).filter(([k]) => /^DFA_(PACS_|DICOMWEB_|AET|RETRIEVE|STORE$)/.test(k)));
  const topo = await startTopology({
    root,
    mlReplicas: c.mlReplicas,
    dicomEnv: { ...dicomEnv, DFA_SCP_PORT: scpPort },
    fhirEnv: { DFA_FHIR_URL: base.DFA_FHIR_URL! },
    storageEnv,
    ...(c.shared ? { sharedStorageUrl: pathToFileURL(join(root, 'shared-artifacts')).href } : {}),
    commonEnv: { DFA_LOG_LEVEL: 'warn', ...Object.fromEntries(Object.entries(base).filter(([k]) => /^DFA_(SEGMENTER|FALLBACK_SEGMENTER|MODEL_DIR)$/.test(k))) },
  });
  // The agent keeps only its own state (database) locally; DFA_SCP_PORT is the gateway's, not its own.
  return { env: { ...base, DFA_SCP_PORT: String(w.scpPort()), ...topo.agentEnv }, topo };
}

export async function benchServices(w: BenchWorld, o: ServicesBenchOptions): Promise<ServicesRow[]> {
  const s3 = await startTestS3('dfa-bench');
  const rows: ServicesRow[] = [];
  try {
    let n = 0;
    for (const c of o.configs ?? SERVICES_CONFIGS) {
      const { env, topo } = await setUp(w, c, s3, n++);
      const agent = await openAgent(loadConfig(env), o.log, { checkPacs: true }).catch(async (e: unknown) => {
        await topo?.stop();
        throw e;
      });
      const row: ServicesRow = { config: c, studyWalls: [], tputWalls: [] };
      try {
        const one = await rerunPlan(env, [o.studyUid]);
        for (let r = 0; r < o.warmup; r++) {
          const res = await runPlan(one, agent.db, agent.deps, { workers: 1 });
          if (res.jobs.some((j) => j.status !== 'succeeded')) throw new Error(`bench (${c.label}): a warm-up job did not succeed: ${JSON.stringify(res.jobs).slice(0, 800)}`);
          await w.removeResults(o.studyUid);
        }
        for (let r = 0; r < o.runs; r++) {
          const t0 = performance.now();
          const res = await runPlan(one, agent.db, agent.deps, { workers: 1 });
          row.studyWalls.push((performance.now() - t0) / 1000);
          if (res.jobs.some((j) => j.status !== 'succeeded')) throw new Error(`bench (${c.label}): a job did not succeed: ${JSON.stringify(res.jobs).slice(0, 800)}`);
          await w.removeResults(o.studyUid);
          const steps = (res.jobs[0] as { timingsMs?: Record<string, number> } | undefined)?.timingsMs ?? {};
          o.say(`bench: ${c.label}: one study, run ${r + 1}/${o.runs}: ${row.studyWalls.at(-1)!.toFixed(2)} s; steps (ms) ${JSON.stringify(steps)}`);
        }
        if (o.tputUids.length) {
          const many = await rerunPlan(env, o.tputUids);
          for (let r = 0; r < o.rounds; r++) {
            const t0 = performance.now();
            const res = await runPlan(many, agent.db, agent.deps, { workers: 2 });
            row.tputWalls.push((performance.now() - t0) / 1000);
            if (res.jobs.some((j) => j.status !== 'succeeded')) throw new Error(`bench (${c.label}): a throughput job did not succeed: ${JSON.stringify(res.jobs).slice(0, 800)}`);
            for (const uid of o.tputUids) await w.removeResults(uid);
            o.say(`bench: ${c.label}: ${o.tputUids.length} studies, round ${r + 1}/${o.rounds}: ${row.tputWalls.at(-1)!.toFixed(2)} s`);
          }
        }
      } finally {
        await agent.close();
        await topo?.stop();
      }
      rows.push(row);
    }
  } finally {
    await s3.stop();
  }
  return rows;
}

/** The part-4 tables: per study and throughput, each row against the in-process disk row. */
export function servicesTables(rows: readonly ServicesRow[], o: { runs: number; rounds: number; slices: number; tputStudies: number; tputSize: number; tputSlices: number }): string[] {
  const first = rows[0]!;
  const vs = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
  const byLabel = (l: string) => rows.find((r) => r.config.label === l);
  const pair = (a: string, b: string, f: (r: ServicesRow) => number[]) => {
    const x = byLabel(a);
    const y = byLabel(b);
    return x && y ? vs(median(f(x)), median(f(y))) : '—';
  };
  const lines = [
    `| configuration | one 512×512×${o.slices} study, wall (s, median of ${o.runs}) | ÷ in-process (disk) | ${o.tputStudies} studies ${o.tputSize}×${o.tputSize}×${o.tputSlices}, 2 jobs at a time, wall (s, median of ${o.rounds}) | studies / minute | ÷ in-process (disk) wall |`,
    '|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const t = median(r.tputWalls);
      return `| ${r.config.label} | ${sec(median(r.studyWalls))} | ${vs(median(r.studyWalls), median(first.studyWalls))} | ${sec(t)} | ${Number.isFinite(t) ? ((o.tputStudies / t) * 60).toFixed(1) : '—'} | ${vs(t, median(first.tputWalls))} |`;
    }),
    '',
    '| comparison | per study | throughput wall |',
    '|---|---|---|',
    `| services on loopback ÷ in process, artifacts on one shared volume (target ≤ 1.15× per study) | **${pair('services (shared volume), 1 ml', 'in-process (disk)', (r) => r.studyWalls)}** | ${pair('services (shared volume), 1 ml', 'in-process (disk)', (r) => r.tputWalls)} |`,
    `| services on loopback ÷ in process, artifacts through the storage service's HTTP API (both disk) | **${pair('services (disk), 1 ml', 'in-process (disk)', (r) => r.studyWalls)}** | ${pair('services (disk), 1 ml', 'in-process (disk)', (r) => r.tputWalls)} |`,
    `| S3-protocol store ÷ disk, in process | ${pair('in-process (S3)', 'in-process (disk)', (r) => r.studyWalls)} | ${pair('in-process (S3)', 'in-process (disk)', (r) => r.tputWalls)} |`,
    `| S3-protocol store ÷ disk, services | ${pair('services (S3), 1 ml', 'services (disk), 1 ml', (r) => r.studyWalls)} | ${pair('services (S3), 1 ml', 'services (disk), 1 ml', (r) => r.tputWalls)} |`,
    `| 2 ml_processor replicas ÷ 1 (S3) | ${pair('services (S3), 2 ml', 'services (S3), 1 ml', (r) => r.studyWalls)} | ${pair('services (S3), 2 ml', 'services (S3), 1 ml', (r) => r.tputWalls)} |`,
    '',
    `Per-run walls (s): ${rows.map((r) => `${r.config.label}: ${r.studyWalls.map((x) => x.toFixed(2)).join(', ')}${r.tputWalls.length ? ` / ${r.tputWalls.map((x) => x.toFixed(2)).join(', ')}` : ''}`).join('; ')}`,
  ];
  return lines;
}
