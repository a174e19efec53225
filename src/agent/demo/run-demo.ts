import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import { fhirFromConfig } from '../../fhir/fhir-from-config.ts';
import { planGoal } from '../planner/index.ts';
import { freePort } from '../free-port.ts';
import type { Pacs } from '../../core/ports.ts';
import type { FhirClient } from '../../fhir/client.ts';
import { runPlan, type RunProgress, type RunResult } from '../runner.ts';
import { openAgent, type Services } from '../wiring.ts';
import type { Database } from '../../storage/db.ts';
import { seedDemoStudies, type SeededStudy } from './seed-studies.ts';

/** The reference goal (DEVELOPERS.md). */
export const EXAMPLE_GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';

export interface DemoOptions {
  readonly dataDir: string;
  readonly goal?: string;
  readonly ctStudies?: number;
  readonly size?: number;
  readonly slices?: number;
  readonly log: Logger;
  readonly onSeeded?: (s: SeededStudy) => void;
  readonly onProgress?: (p: RunProgress) => void;
}

export interface DemoReport {
  readonly dataDir: string;
  readonly fhirUrl: string;
  readonly seeded: readonly SeededStudy[];
  readonly result: RunResult;
  /** Each study whose job did not end as expected, in words; empty when all did. */
  readonly mismatches: readonly string[];
  readonly timingsMs: { readonly startup: number; readonly seed: number; readonly run: number };
}

/**
 * `dfa demo`: embedded PACS + embedded FHIR + phantom studies, the example goal, and a check that
 * every job ended as expected (CT succeeded, MR skipped, broken series failed with its reason).
 * Always embedded, whatever DFA_PACS_* / DFA_FHIR_URL say: a demo never touches a hospital system.
 */
export async function runDemo(base: Config, o: DemoOptions): Promise<DemoReport> {
  const dataDir = resolve(o.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const cfg: Config = {
    ...base,
    DFA_DATA_DIR: dataDir,
    DFA_DATABASE_URL: undefined,
    DFA_FHIR_URL: undefined,
    DFA_FHIR_AUTH: 'none',
    DFA_PACS_HOST: undefined,
    DFA_PACS_PORT: undefined,
    DFA_PACS_AET: undefined,
    DFA_DICOMWEB_URL: undefined,
    DFA_SCP_PORT: await freePort(),
  };
  const t0 = Date.now();
  const fhir = await fhirFromConfig(cfg, o.log);
  const closers: (() => Promise<void>)[] = [() => fhir.close()];
  try {
    const pacs = await pacsFromConfig(cfg, o.log);
    closers.unshift(() => pacs.close());
    const agent = await openAgent(cfg, o.log, { overrides: { pacs, fhir: fhir.workflow } });
    closers.unshift(() => agent.close());
    const startup = Date.now() - t0;

    const goal = await runDemoGoal(cfg, agent, { ...o, pacs, fhirClient: fhir.client });
    return { ...goal, dataDir, fhirUrl: fhir.embedded?.url ?? '', timingsMs: { startup, ...goal.timingsMs } };
  } finally {
    for (const c of closers) await c().catch(() => undefined);
  }
}

export interface DemoGoalOptions extends Pick<DemoOptions, 'dataDir' | 'goal' | 'ctStudies' | 'size' | 'slices' | 'log' | 'onSeeded' | 'onProgress'> {
  /** Where the phantoms are stored (the PACS the agent reads). */
  readonly pacs: Pacs;
  /** Where they are registered (the FHIR server the agent reads). */
  readonly fhirClient: FhirClient;
}

/**
 * The demo's worklist and goal on an agent already wired (embedded ports, or every service over
 * HTTP for `dfa demo --services`): seeds the phantoms into `pacs` + `fhirClient`, runs the goal,
 * and lists each study whose job did not end as expected.
 */
export async function runDemoGoal(
  cfg: Config,
  agent: Pick<Services, 'deps'> & { db: Database },
  o: DemoGoalOptions,
): Promise<Omit<DemoReport, 'dataDir' | 'fhirUrl' | 'timingsMs'> & { timingsMs: { seed: number; run: number } }> {
  const t1 = Date.now();
  const seeded = await seedDemoStudies({
    pacs: o.pacs,
    fhir: o.fhirClient,
    workDir: join(resolve(o.dataDir), 'phantoms'),
    ctStudies: o.ctStudies,
    size: o.size,
    slices: o.slices,
    log: o.log,
  });
  for (const s of seeded) o.onSeeded?.(s);
  const seed = Date.now() - t1;

  const t2 = Date.now();
  const plan = await planGoal(o.goal ?? EXAMPLE_GOAL, cfg);
  const result = await runPlan(plan, agent.db, agent.deps, { workers: cfg.DFA_CONCURRENCY, onProgress: o.onProgress });
  const run = Date.now() - t2;

  const mismatches: string[] = [];
  for (const s of seeded) {
    const job = result.jobs.find((j) => j.studyInstanceUid === s.studyInstanceUid);
    if (!job) mismatches.push(`${s.label}: no job reported (expected ${s.expected})`);
    else if (job.status !== s.expected) mismatches.push(`${s.label}: ${job.status}${job.reason ? ` (${job.reason})` : ''}, expected ${s.expected}`);
    else if (s.expected === 'failed' && !job.reason) mismatches.push(`${s.label}: failed without a reason`);
  }
  return { seeded, result, mismatches, timingsMs: { seed, run } };
}
