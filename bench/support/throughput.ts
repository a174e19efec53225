/**
 * Throughput of the agent with 1 and with 2 workers on one queue: N phantom studies, a real
 * PostgreSQL (DFA_DATABASE_URL), `dfa worker --concurrency 1` child processes (each its own Node
 * process, so two can use both cores), and the bench process as the runner that only plans,
 * enqueues and waits (`dfa run --workers 0`). Optionally also one process with two in-process
 * workers (DFA_CONCURRENCY=2), which shares one Node event loop.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runPlan } from '../../src/agent/runner.ts';
import { openAgent } from '../../src/agent/wiring.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Logger } from '../../src/core/log.ts';
import { spawnDfa } from '../../test/e2e/world.ts';
import type { PostgresHandle } from '../../test/support/postgres.ts';
import { median, track, waitForLine } from './bench-stats.ts';
import { rerunPlan, type BenchWorld } from './e2e-world.ts';

export interface ThroughputConfig {
  readonly label: string;
  /** `dfa worker` processes (each --concurrency 1). */
  readonly processes: number;
  /** Workers inside the runner process (runPlan `workers`). */
  readonly inProcess: number;
}

export interface ThroughputRow {
  readonly config: ThroughputConfig;
  readonly seconds: number;
  readonly perMinute: number;
  /** Throughput ÷ the first configuration's, median of the per-round ratios (same-round load). */
  readonly vsFirst: number;
  /** Sum of all jobs' step times ÷ (wall × workers): how busy the workers were. */
  readonly utilization: number;
  /** Median over jobs of the sum of a job's step times. */
  readonly jobSeconds: number;
  /** Per step: median over all jobs of all rounds (s) — which step slows down when workers share the machine. */
  readonly stepSeconds: ReadonlyMap<string, number>;
  /** CPU time the workers' processes used ÷ wall: how many cores they actually got. */
  readonly coresUsed: number;
  /** Whole machine (every process, other users' too) busy CPU ÷ wall, from /proc/stat. */
  readonly machineCores: number;
  /**
   * CPU seconds per job by part of our system (median over rounds): the `dfa worker` processes,
   * Orthanc, PostgreSQL (postmaster + backends), and the bench process itself (runner, FHIR dev
   * server, in-process workers). Their sum ÷ the 1-worker job interval says how many cores one
   * worker's pipeline keeps busy, which bounds the 2-worker ratio on 2 cores whatever the queue does.
   */
  readonly cpuPerJob: { readonly workers: number; readonly workersMainThread: number; readonly orthanc: number; readonly postgres: number; readonly bench: number };
  /** CPU seconds per job of the `dfa worker` processes by thread kind (Node 24 thread names: MainThread, V8Worker = GC/compiler, WorkerThread, libuv-worker), median of rounds. */
  readonly workerThreads: ReadonlyMap<string, number>;
  /** 1-minute load average when the configuration finished. */
  readonly load: number;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Busy CPU seconds of the whole machine so far: the `cpu` line of /proc/stat minus idle and iowait. */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * user + system CPU seconds of a process so far, all its threads (Linux /proc/<pid>/stat, fields
 * 14 and 15), or of its main thread only (`mainThread`: /proc/<pid>/task/<pid>/stat).
 */
function cpuSecondsOf(pid: number | undefined, mainThread = false): number {
  if (pid === undefined) return 0;
  return statCpuSeconds(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`);
}

/** utime + stime of a /proc stat file (a process or one thread), in seconds. */
function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** CPU seconds so far of each thread of a process, summed by thread name (/proc/<pid>/task/<tid>/comm). */
function cpuByThreadName(pid: number | undefined): Map<string, number> {
  const m = new Map<string, number>();
  if (pid === undefined) return m;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return m;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      m.set(name, (m.get(name) ?? 0) + statCpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      /* thread ended */
    }
  }
  return m;
}

function addThreads(into: Map<string, number>, from: Map<string, number>, sign: number): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + sign * v);
}

/** Every pid whose command line contains `needle`, and their children (PostgreSQL backends). */
function pidsOf(needle: string): number[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const cmd = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { return ''; } };
  const ppid = (pid: number) => { try { const st = readFileSync(`/proc/${pid}/stat`, 'utf8'); return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]); } catch { return -1; } };
  const roots = all.filter((p) => cmd(p).includes(needle));
  return [...roots, ...all.filter((p) => roots.includes(ppid(p)) && !roots.includes(p))];
}

/** CPU seconds per pid so far (a pid gone is left out). */
function cpuByPid(pids: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of pids) {
    try {
      m.set(p, cpuSecondsOf(p));
    } catch {
      /* exited */
    }
  }
  return m;
}

/** CPU seconds used between two readings; a pid born in between counts from 0, one that died is missed. */
function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let t = 0;
  for (const [p, c] of after) t += c - (before.get(p) ?? 0);
  return t;
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Node flags of the `dfa worker` processes: as docker-compose.yml runs them (--single-threaded: V8
 * without background GC and compiler threads; with as many workers as cores those only compete
 * with the other worker; measured here: less CPU per job and more studies/min with 2 workers).
 * BENCH_WORKER_NODE_ARGS replaces them ('' for Node's defaults; `--cpu-prof --cpu-prof-dir=…` to profile).
 */
export const WORKER_NODE_ARGS: readonly string[] = (process.env.BENCH_WORKER_NODE_ARGS ?? '--single-threaded').split(' ').filter(Boolean);

export const THROUGHPUT_CONFIGS: readonly ThroughputConfig[] = [
  { label: '1 × `dfa worker` process', processes: 1, inProcess: 0 },
  { label: '2 × `dfa worker` processes', processes: 2, inProcess: 0 },
  { label: '1 process, 2 workers in it (DFA_CONCURRENCY=2)', processes: 0, inProcess: 2 },
];

export async function benchThroughput(
  w: BenchWorld,
  pg: PostgresHandle,
  o: { studies: number; size: number; slices: number; rounds: number; warmup: number; configs: readonly ThroughputConfig[]; log: Logger; say: (s: string) => void },
): Promise<ThroughputRow[]> {
  o.say(`bench: seeding ${o.studies} phantom CT studies ${o.size}×${o.size}×${o.slices}…`);
  const studies: string[] = [];
  for (let i = 0; i < o.studies; i++) studies.push((await w.seedStudy({ size: o.size, slices: o.slices, seed: 500 + i, label: `T${i}` })).studyInstanceUid);
  const runnerEnv = w.env({ DFA_DATA_DIR: join(w.root, 'tput-runner'), DFA_SCP_PORT: String(w.scpPort()), DFA_DATABASE_URL: pg.url });
  const plan = await rerunPlan(runnerEnv, studies);
  const workerPorts = [w.scpPort(), w.scpPort()];
  const agent = await openAgent(loadConfig(runnerEnv), o.log);
  const samples = new Map<ThroughputConfig, { threads: Map<string, number>[]; perJob: ThroughputRow['cpuPerJob'][]; seconds: number[]; utilization: number[]; jobSeconds: number[]; cores: number[]; machine: number[]; load: number[]; steps: Map<string, number[]> }>();
  try {
    // Configurations interleaved round by round: load on this shared machine drifts.
    for (let r = 0; r < o.rounds; r++) {
      for (const c of o.configs) {
        // Workers up and listening on the queue before the clock starts: their start-up is part 3.
        const procs = workerPorts.slice(0, c.processes).map((port, i) =>
          track(spawnDfa(['worker', '--concurrency', '1'], w.env({ DFA_DATA_DIR: join(w.root, `tput-worker-${i}`), DFA_SCP_PORT: String(port), DFA_DATABASE_URL: pg.url, DFA_LOG_LEVEL: 'info' }), WORKER_NODE_ARGS)),
        );
        try {
          await Promise.all(procs.map((p) => waitForLine(p, /worker started/, 120_000)));
          // Steady state, as a long-running worker is: untimed runs first, so JIT compilation and
          // first-use costs (paid once per process, i.e. twice with two processes) stay off the clock.
          for (let i = 0; i < o.warmup; i++) {
            const warm = await runPlan(plan, agent.db, agent.deps, { workers: c.inProcess, pollMs: 100 });
            if (warm.summary.succeeded !== studies.length) throw new Error(`bench: ${c.label}: warm-up run: ${JSON.stringify(warm.summary)}`);
          }
          // CPU of the processes that run jobs: the worker children, or this process for in-process workers.
          const cpu = () => (c.inProcess > 0 ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 : 0) + procs.reduce((a, p) => a + cpuSecondsOf(p.pid), 0);
          const cpu0 = cpu();
          // The event loop's share: what two jobs in one process (DFA_CONCURRENCY=2) cannot overlap.
          const mainCpu = () => (c.inProcess > 0 ? cpuSecondsOf(process.pid, true) : 0) + procs.reduce((a, p) => a + cpuSecondsOf(p.pid, true), 0);
          const main0 = mainCpu();
          const parts = () => ({ orthanc: cpuByPid(pidsOf(w.orthanc.storageDir)), postgres: cpuByPid(pidsOf(`-p ${pg.port} `)), bench: selfCpuSeconds() });
          const parts0 = parts();
          const threads = () => {
            const m = new Map<string, number>();
            for (const p of procs) addThreads(m, cpuByThreadName(p.pid), 1);
            return m;
          };
          const threads0 = threads();
          const machine0 = machineBusySeconds();
          const t0 = performance.now();
          const res = await runPlan(plan, agent.db, agent.deps, { workers: c.inProcess, pollMs: 100 });
          const seconds = (performance.now() - t0) / 1000;
          const cores = (cpu() - cpu0) / seconds;
          const parts1 = parts();
          const n = studies.length;
          const perJob = {
            workers: c.processes > 0 ? (cpu() - cpu0) / n : 0,
            workersMainThread: (mainCpu() - main0) / n,
            orthanc: cpuSince(parts0.orthanc, parts1.orthanc) / n,
            postgres: cpuSince(parts0.postgres, parts1.postgres) / n,
            bench: (parts1.bench - parts0.bench) / n,
          };
          const machineCores = (machineBusySeconds() - machine0) / seconds;
          const threadsPerJob = threads();
          addThreads(threadsPerJob, threads0, -1);
          for (const [k, v] of threadsPerJob) threadsPerJob.set(k, v / n);
          if (res.summary.succeeded !== studies.length) {
            throw new Error(`bench: ${c.label}: ${JSON.stringify(res.summary)}; ${res.jobs.find((j) => j.status !== 'succeeded')?.reason ?? ''}`);
          }
          const jobS = res.jobs.map((j) => Object.values(j.timingsMs).reduce((a, b) => a + b, 0) / 1000);
          const s = samples.get(c) ?? { threads: [], perJob: [], seconds: [], utilization: [], jobSeconds: [], cores: [], machine: [], load: [], steps: new Map<string, number[]>() };
          for (const j of res.jobs) for (const [k, ms] of Object.entries(j.timingsMs)) s.steps.set(k, [...(s.steps.get(k) ?? []), ms / 1000]);
          s.cores.push(cores);
          s.perJob.push(perJob);
          s.threads.push(threadsPerJob);
          s.machine.push(machineCores);
          s.load.push(loadavg()[0]);
          s.seconds.push(seconds);
          s.utilization.push(jobS.reduce((a, b) => a + b, 0) / (seconds * (c.processes + c.inProcess)));
          s.jobSeconds.push(median(jobS));
          samples.set(c, s);
          o.say(`bench: ${c.label}: ${studies.length} studies in ${seconds.toFixed(1)} s, ${cores.toFixed(2)} cores used by the workers, ${machineCores.toFixed(2)} busy on the machine (load average ${loadavg()[0].toFixed(1)}); CPU s/job: workers ${perJob.workers.toFixed(2)} (main thread ${perJob.workersMainThread.toFixed(2)}), Orthanc ${perJob.orthanc.toFixed(2)}, PostgreSQL ${perJob.postgres.toFixed(2)}, bench (runner + FHIR) ${perJob.bench.toFixed(2)}`);
        } finally {
          for (const p of procs) p.kill('SIGTERM');
          await Promise.all(procs.map((p) => p.output));
        }
      }
    }
  } finally {
    await agent.close();
  }
  const first = samples.get(o.configs[0])!.seconds;
  return o.configs.map((c) => {
    const s = samples.get(c)!;
    const seconds = median(s.seconds);
    return {
      config: c,
      seconds,
      perMinute: (studies.length / seconds) * 60,
      vsFirst: median(s.seconds.map((x, r) => first[r] / x)),
      utilization: median(s.utilization),
      jobSeconds: median(s.jobSeconds),
      stepSeconds: new Map([...s.steps].map(([k, v]) => [k, median(v)])),
      coresUsed: median(s.cores),
      machineCores: median(s.machine),
      cpuPerJob: {
        workers: median(s.perJob.map((x) => x.workers)),
        workersMainThread: median(s.perJob.map((x) => x.workersMainThread)),
        orthanc: median(s.perJob.map((x) => x.orthanc)),
        postgres: median(s.perJob.map((x) => x.postgres)),
        bench: median(s.perJob.map((x) => x.bench)),
      },
      workerThreads: new Map([...new Set(s.threads.flatMap((m) => [...m.keys()]))].sort().map((k) => [k, median(s.threads.map((m) => m.get(k) ?? 0))])),
      load: median(s.load),
    };
  });
}
