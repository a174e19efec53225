/**
 * `npm run bench:e2e` — the whole agent, end to end, against a real Orthanc (loopback,
 * TCP_NODELAY=1) and the embedded FHIR dev server. Prints markdown tables:
 *  1. the example goal on one 512×512×300 phantom CT study (and on a 150-slice one): wall time per
 *     job step and in total, median of BENCH_RUNS runs, next to the fetch floor — the same study by
 *     `curl` over WADO-RS (one multipart file) and by `TCP_NODELAY=1 getscu`, interleaved round by
 *     round so both see the same machine load; total ÷ floor (floor = the faster of the two);
 *  2. throughput: BENCH_TPUT_STUDIES studies (default 10 × 512×512×300) by 1 and by 2 `dfa worker` processes sharing a
 *     real PostgreSQL queue (the runner only enqueues and waits) → studies/minute and the ratio
 *     (bench/support/throughput.ts);
 *  3. the CLI's own start-up cost (bench/support/cli-startup.ts);
 *  4. the deployment's topology: one 512×512×BENCH_SLICES study and BENCH_TPUT_STUDIES studies, in
 *     process vs every service its own process on loopback, disk vs S3-protocol artifact store, 1 vs 2
 *     ml_processor replicas, artifacts through the storage service vs on one shared volume
 *     (bench/support/services-bench.ts).
 * Every run is real work: the plan is re-run (`rerun`, status any, the study's UID), so each job is
 * a new generation that retrieves, segments, stores and records again.
 *
 * Knobs: BENCH_RUNS (3), BENCH_SLICES (300), BENCH_SLICES_SMALL (150; 0 = skip), BENCH_TPUT_STUDIES
 * (10; 0 = skip), BENCH_TPUT_SIZE (512), BENCH_TPUT_SLICES (300: the same kind of study as part 1), BENCH_TPUT_ROUNDS (3), BENCH_TPUT_WARMUP (1: untimed runs of the plan before each timed one; in part 4 also before the one-study runs of each configuration),
 * BENCH_TPUT_INPROCESS (1; 0 = skip the in-process DFA_CONCURRENCY=2 row), BENCH_CLI_RUNS (5; 0 = skip),
 * BENCH_PARTS (1,2,3,4: which parts run; e.g. BENCH_PARTS=4 for the topology rows only); BENCH_SVC_ROWS (part-4 rows by label prefix, comma-separated);
 * DFA_RETRIEVE / DFA_STORE / DFA_SEGMENTER pass through to the agent; BENCH_WORKER_NODE_ARGS sets the node flags of
 * the `dfa worker` child processes (default `--single-threaded`, as docker-compose.yml runs them;
 * '' for Node's defaults; `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runPlan } from '../src/agent/runner.ts';
import { openAgent } from '../src/agent/wiring.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { GOAL } from '../test/e2e/world.ts';
import { startPostgres, type PostgresHandle } from '../test/support/postgres.ts';
import { envInt, killTracked, median, sec } from './support/bench-stats.ts';
import { measureStartup } from './support/cli-startup.ts';
import { DCMTK_AET, rerunPlan, startBenchWorld, type BenchStudy, type BenchWorld } from './support/e2e-world.ts';
import { benchServices, SERVICES_CONFIGS, servicesTables } from './support/services-bench.ts';
import { benchThroughput, THROUGHPUT_CONFIGS, WORKER_NODE_ARGS, type ThroughputRow } from './support/throughput.ts';

const run = promisify(execFile);
const RUNS = envInt('BENCH_RUNS', 3);
const SLICES = envInt('BENCH_SLICES', 300);
const SLICES_SMALL = envInt('BENCH_SLICES_SMALL', 150, 0);
const TPUT_STUDIES = envInt('BENCH_TPUT_STUDIES', 10, 0);
const TPUT_SIZE = envInt('BENCH_TPUT_SIZE', 512);
const TPUT_SLICES = envInt('BENCH_TPUT_SLICES', 300);
const TPUT_ROUNDS = envInt('BENCH_TPUT_ROUNDS', 3);
const TPUT_WARMUP = envInt('BENCH_TPUT_WARMUP', 1, 0);
const TPUT_INPROCESS = envInt('BENCH_TPUT_INPROCESS', 1, 0) > 0;
const CLI_RUNS = envInt('BENCH_CLI_RUNS', 5, 0);
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3,4').split(',').map((x) => x.trim()));
const log = createLogger({ level: 'warn' });
const say = (s: string) => process.stderr.write(s + '\n');
const out: string[] = [];
/** What an interrupted run must still stop (Orthanc, FHIR server, PostgreSQL, temp dirs). */
const onInterrupt: (() => Promise<void>)[] = [];

// ───────────────────────── 1. one study: per-step times vs the fetch floor ─────────────────────────

interface StudyFigures {
  readonly study: BenchStudy;
  readonly steps: Map<string, number[]>;
  readonly stepSums: number[];
  readonly walls: number[];
  readonly curl: number[];
  readonly getscu: number[];
}

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

async function benchStudy(w: BenchWorld, slices: number, seed: number): Promise<StudyFigures> {
  say(`bench: generating and storing a 512×512×${slices} phantom CT study…`);
  const study = await w.seedStudy({ size: 512, slices, seed, label: `S${slices}` });
  say(`bench: stored ${slices} instances in Orthanc by C-STORE in ${study.storeSeconds.toFixed(1)} s`);
  const env = w.env({ DFA_DATA_DIR: join(w.root, `agent-${slices}`), DFA_SCP_PORT: String(w.scpPort()) });
  const plan = await rerunPlan(env, [study.studyInstanceUid]);
  const agent = await openAgent(loadConfig(env), log, { checkPacs: true });
  const f: StudyFigures = { study, steps: new Map(), stepSums: [], walls: [], curl: [], getscu: [] };
  const uid = study.studyInstanceUid;
  const scratch = join(w.root, `floor-${slices}`);
  try {
    for (let r = 0; r < RUNS; r++) {
      // The agent, in process (what `dfa run` does after start-up): one job, all steps.
      const t0 = performance.now();
      const res = await runPlan(plan, agent.db, agent.deps, { workers: 1 });
      const wall = (performance.now() - t0) / 1000;
      const job = res.jobs[0];
      if (res.jobs.length !== 1 || job.status !== 'succeeded') throw new Error(`bench: the job did not succeed: ${JSON.stringify(res.jobs).slice(0, 800)}`);
      for (const [k, ms] of Object.entries(job.timingsMs)) f.steps.set(k, [...(f.steps.get(k) ?? []), ms / 1000]);
      f.stepSums.push(Object.values(job.timingsMs).reduce((a, b) => a + b, 0) / 1000);
      f.walls.push(wall);
      const removed = await w.removeResults(uid);
      if (removed < 1) throw new Error('bench: the job succeeded but Orthanc holds no RTSTRUCT/SEG for the study');
      // The fetch floor, same round: curl over WADO-RS, then getscu.
      await mkdir(scratch, { recursive: true });
      let t = performance.now();
      await run('curl', ['-sS', '--fail', '-o', join(scratch, 'study.multipart'), '-H', 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*', `${w.orthanc.dicomWebUrl}/studies/${uid}`]);
      f.curl.push((performance.now() - t) / 1000);
      await rm(scratch, { recursive: true, force: true });
      await mkdir(scratch, { recursive: true });
      t = performance.now();
      await run('getscu', ['-aet', DCMTK_AET, '-aec', w.orthanc.aet, '-od', scratch, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${uid}`, '127.0.0.1', String(w.orthanc.dicomPort)], { env: { ...process.env, TCP_NODELAY: '1' } });
      f.getscu.push((performance.now() - t) / 1000);
      const got = await countFiles(scratch);
      if (got !== slices) throw new Error(`bench: getscu fetched ${got} instances, expected ${slices}`);
      await rm(scratch, { recursive: true, force: true });
      say(`bench: ${slices} slices, round ${r + 1}/${RUNS}: agent ${wall.toFixed(2)} s (steps ${f.stepSums.at(-1)!.toFixed(2)} s), curl ${f.curl.at(-1)!.toFixed(2)} s, getscu ${f.getscu.at(-1)!.toFixed(2)} s`);
    }
  } finally {
    await agent.close();
  }
  return f;
}

function studyTables(figs: readonly StudyFigures[]): string[] {
  const target = (slices: number) => (slices === 300 ? '≤ 20 s' : slices === 150 ? '≤ 10 s' : '—');
  const head = figs.map((f) => `${f.study.slices} slices (s)`);
  const stepNames = [...new Set(figs.flatMap((f) => [...f.steps.keys()]))];
  const lines = [
    `| step (median of ${RUNS}) | ${head.join(' | ')} |`,
    `|---|${figs.map(() => '---').join('|')}|`,
    ...stepNames.map((k) => `| ${k} | ${figs.map((f) => sec(median(f.steps.get(k) ?? []))).join(' | ')} |`),
    `| **total: sum of steps** | ${figs.map((f) => `**${sec(median(f.stepSums))}**`).join(' | ')} |`,
    `| total: runPlan wall (queue pick-up, audit, polling) | ${figs.map((f) => sec(median(f.walls))).join(' | ')} |`,
    `| target | ${figs.map((f) => target(f.study.slices)).join(' | ')} |`,
    `| fetch floor: curl WADO-RS (one multipart file) | ${figs.map((f) => sec(median(f.curl))).join(' | ')} |`,
    `| fetch floor: TCP_NODELAY=1 getscu | ${figs.map((f) => sec(median(f.getscu))).join(' | ')} |`,
    `| **total ÷ floor** (sum of steps ÷ faster of the two) | ${figs.map((f) => `**${(median(f.stepSums) / Math.min(median(f.curl), median(f.getscu))).toFixed(1)}×**`).join(' | ')} |`,
    `| runPlan wall ÷ floor | ${figs.map((f) => `${(median(f.walls) / Math.min(median(f.curl), median(f.getscu))).toFixed(1)}×`).join(' | ')} |`,
    '',
    `Per-run totals (sum of steps, s): ${figs.map((f) => `${f.study.slices} slices: ${f.stepSums.map((x) => x.toFixed(2)).join(', ')}`).join('; ')}`,
  ];
  return lines;
}

/**
 * Where the CPU of one job goes, and the ratio it allows: with C CPU-seconds per job over all our
 * processes, N cores finish at most N / C jobs per second, whatever the queue does.
 */
function cpuTable(t: readonly ThroughputRow[]): string[] {
  const total = (x: ThroughputRow) => x.cpuPerJob.workers + x.cpuPerJob.orthanc + x.cpuPerJob.postgres + x.cpuPerJob.bench;
  const row = (name: string, f: (x: ThroughputRow) => number) => `| ${name} | ${t.map((x) => f(x).toFixed(3)).join(' | ')} |`;
  const one = t[0];
  const ceilingPerS = cpus().length / total(one);
  return [
    '',
    `| CPU seconds per job (median of rounds) | ${t.map((x) => x.config.label).join(' | ')} |`,
    `|---|${t.map(() => '---').join('|')}|`,
    row('`dfa worker` processes, all threads', (x) => x.cpuPerJob.workers),
    row('… of which their main threads (event loop)', (x) => x.cpuPerJob.workersMainThread),
    ...[...new Set(t.flatMap((x) => [...x.workerThreads.keys()]))].filter((k) => k !== 'MainThread').map((k) => row(`… of which threads named ${k}`, (x) => x.workerThreads.get(k) ?? 0)),
    row('Orthanc', (x) => x.cpuPerJob.orthanc),
    row('PostgreSQL (postmaster + backends)', (x) => x.cpuPerJob.postgres),
    row('bench process: runner, FHIR dev server (and the in-process workers)', (x) => x.cpuPerJob.bench),
    row('**total**', total),
    '',
    `CPU ceiling: ${cpus().length} cores ÷ ${total(one).toFixed(2)} CPU s per job (1-worker row) = ${(ceilingPerS * 60).toFixed(0)} studies/min at most = **${(ceilingPerS / (one.perMinute / 60)).toFixed(2)}× the 1-worker throughput**, with nothing else running on the machine.`,
  ];
}

// ───────────────────────── 4. the topology: services on loopback, S3, ml replicas ─────────────────────────

async function servicesPart(w: BenchWorld): Promise<string[]> {
  say(`bench: part 4: seeding a 512×512×${SLICES} study and ${TPUT_STUDIES} ${TPUT_SIZE}×${TPUT_SIZE}×${TPUT_SLICES} studies…`);
  const one = await w.seedStudy({ size: 512, slices: SLICES, seed: 41, label: `T${SLICES}` });
  const many: string[] = [];
  for (let i = 0; i < TPUT_STUDIES; i++) many.push((await w.seedStudy({ size: TPUT_SIZE, slices: TPUT_SLICES, seed: 50 + i, label: `TP${i}` })).studyInstanceUid);
  const load0 = loadavg();
  // BENCH_SVC_ROWS: which part-4 rows run, by label prefix (e.g. "in-process (disk),services (disk)"); default all.
  const only = (process.env.BENCH_SVC_ROWS ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const configs = only.length ? SERVICES_CONFIGS.filter((c) => only.some((o) => c.label.startsWith(o))) : SERVICES_CONFIGS;
  const rows = await benchServices(w, { runs: RUNS, rounds: TPUT_ROUNDS, warmup: TPUT_WARMUP, studyUid: one.studyInstanceUid, tputUids: many, log, say, configs });
  return [
    `## 4. The deployment's topology on loopback: in process vs services, disk vs S3-protocol store (s3rver), 1 vs 2 ml_processor replicas`,
    '',
    'The agent (planner, job graph, embedded PGlite queue) runs in the bench process in every row; a services row starts `dfa service storage`, `ml` (×1 or ×2), `dicom` and `fhir` as their own processes (src/serve/topology.ts) and the agent reaches them over HTTP, large data by artifact key. Configurations run one after the other (not interleaved).',
    '',
    ...servicesTables(rows, { runs: RUNS, rounds: TPUT_ROUNDS, slices: SLICES, tputStudies: TPUT_STUDIES, tputSize: TPUT_SIZE, tputSlices: TPUT_SLICES }),
    '',
    `Load average before / after part 4: ${load0.map((x) => x.toFixed(1)).join(' / ')} → ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`,
    '',
  ];
}

// ───────────────────────── main ─────────────────────────

async function main(): Promise<void> {
  const startLoad = loadavg();
  out.push(
    `# End-to-end benchmark — ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.versions.node}, load average at start ${startLoad.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min)`,
    '',
    `Goal: "${GOAL}" — real Orthanc on loopback (TCP_NODELAY=1), embedded FHIR dev server over HTTP, agent in process (runPlan, embedded PGlite), ${process.env.DFA_SEGMENTER ?? 'classical'} segmenter, retrieval ${process.env.DFA_RETRIEVE ?? 'c-get,c-move,wado-rs (first that works)'}, store ${process.env.DFA_STORE ?? 'c-store'}.`,
    '',
  );
  // SCP ports known to Orthanc: 2 for part 1, 2 for part 2, 2 per services row of part 4 (gateway + agent).
  const w = await startBenchWorld({ scpPorts: 16, log });
  let pg: PostgresHandle | undefined;
  onInterrupt.push(async () => {
    await pg?.stop();
    await w.stop();
  });
  try {
    if (PARTS.has('1')) {
      const figs = [await benchStudy(w, SLICES, 11)];
      if (SLICES_SMALL > 0) figs.push(await benchStudy(w, SLICES_SMALL, 12));
      out.push(`## 1. One 512×512 phantom CT study, per step (s), median of ${RUNS} runs (each a re-run that redoes all work)`, '', ...studyTables(figs), '');
    }

    if (TPUT_STUDIES > 0 && PARTS.has('2')) {
      pg = await startPostgres();
      const configs = THROUGHPUT_CONFIGS.filter((c) => TPUT_INPROCESS || c.inProcess === 0);
      const t = await benchThroughput(w, pg, { studies: TPUT_STUDIES, size: TPUT_SIZE, slices: TPUT_SLICES, rounds: TPUT_ROUNDS, warmup: TPUT_WARMUP, configs, log, say });
      out.push(
        `## 2. Throughput: ${TPUT_STUDIES} studies ${TPUT_SIZE}×${TPUT_SIZE}×${TPUT_SLICES}, real PostgreSQL queue, runner only enqueues and waits; median of ${TPUT_ROUNDS} round(s), configurations interleaved, each timed run after ${TPUT_WARMUP} untimed warm-up run(s) of the same workers (steady state); worker processes run as \`node ${[...WORKER_NODE_ARGS, 'bin/dfa.js worker'].join(' ')}\``,
        '',
        '| workers | wall (s) | studies / minute | vs 1 worker (median of per-round ratios) | median job (sum of steps, s) | worker utilization | CPU cores the workers got | machine CPU busy (cores) | load avg (1 min) |',
        '|---|---|---|---|---|---|---|---|---|',
        ...t.map((x) => `| ${x.config.label} | ${sec(x.seconds)} | ${x.perMinute.toFixed(1)} | ${x === t[0] ? '1.00×' : `**${x.vsFirst.toFixed(2)}×**`} | ${sec(x.jobSeconds)} | ${(x.utilization * 100).toFixed(0)} % | ${x.coresUsed.toFixed(2)} | ${x.machineCores.toFixed(2)} of ${cpus().length} | ${x.load.toFixed(1)} |`),
        '',
        'Target: 2 workers ≥ 1.7× of 1 worker on 2 cores. Utilization = sum of all jobs\' step times ÷ (wall × workers); the rest is queue pick-up (the runner NOTIFYs the `dfa worker` processes; pg-boss polling every 1 s is the fallback), checkpoint and audit writes between steps, and waiting. CPU cores = user+system CPU seconds of the job-running processes ÷ wall (Orthanc, PostgreSQL and the FHIR server not included); machine CPU busy = all processes on the machine, other users\' included (/proc/stat): when it is near the core count, the machine, not the queue, bounds the ratio.',
        '',
        `| step: median over jobs (s) | ${t.map((x) => x.config.label).join(' | ')} |`,
        `|---|${t.map(() => '---').join('|')}|`,
        ...[...t[0].stepSeconds.keys()].filter((k) => t.some((x) => (x.stepSeconds.get(k) ?? 0) >= 0.01)).map((k) => `| ${k} | ${t.map((x) => sec(x.stepSeconds.get(k))).join(' | ')} |`),
        '',
        ...cpuTable(t),
        '',
        `Load average after the throughput runs: ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`,
        '',
      );
    }
    if (PARTS.has('4')) out.push(...(await servicesPart(w)));
  } finally {
    killTracked();
    await pg?.stop().catch(() => undefined);
    await w.stop();
    onInterrupt.length = 0;
  }

  if (CLI_RUNS > 0 && PARTS.has('3')) {
    const rows = await measureStartup(CLI_RUNS, say);
    const help = rows[0].medianS;
    out.push(
      `## 3. CLI start-up (real \`dfa\` process, everything embedded, empty worklist), median of ${CLI_RUNS}`,
      '',
      '| command | what starts | wall (s) | minus `dfa help` (s) |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.label} | ${r.what} | ${sec(r.medianS)} | ${r === rows[0] ? '—' : sec(r.medianS - help)} |`),
      '',
    );
  }
  out.push(`Load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
  process.stdout.write(out.join('\n') + '\n');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killTracked('SIGKILL');
    void Promise.allSettled(onInterrupt.map((f) => f())).finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (e) {
  killTracked('SIGKILL');
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  throw e;
}
