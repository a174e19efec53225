/**
 * The end-to-end world: a real Orthanc (loopback), the embedded FHIR server, and the demo's
 * worklist (phantom CTs, one MR, one broken CT) stored in Orthanc and registered in FHIR. The agent
 * itself runs as the real CLI in child processes (`dfa run`, `dfa worker`) configured by DFA_* env.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceType } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { seedDemoStudies, type SeededStudy } from '../../src/agent/demo/seed-studies.ts';
import { pacsFromConfig } from '../../src/dicom/pacs-from-config.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startFhirServer, type FhirServer } from '../../src/fhir/dev-server/server.ts';
import { startOrthanc, type OrthancHandle } from '../support/orthanc.ts';
import { freePort } from '../support/ports.ts';
import { REPO_ROOT } from '../support/testdata.ts';

export const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';

export interface World {
  readonly root: string;
  readonly orthanc: OrthancHandle;
  readonly fhirServer: FhirServer;
  readonly fhir: FhirClient;
  readonly seeded: readonly SeededStudy[];
  /** DFA_* environment for an agent process; `extra` overrides. */
  env(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startWorld(o: { ctStudies?: number; databaseUrl?: string; size?: number; slices?: number } = {}): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'dfa-e2e-'));
  // Our SCP ports: [0] the agent's, [1] a second worker's, [2] the seeding client's.
  const scpPorts = [await freePort(), await freePort(), await freePort()];
  // Orthanc knows our SCP (C-MOVE destination) under AE DFA; C-GET needs the AE listed too.
  const orthanc = await startOrthanc({ modalities: Object.fromEntries(scpPorts.map((p, i) => [`dfa${i}`, { aet: 'DFA', port: p }])) });
  const fhirServer = await startFhirServer({ dataDir: join(root, 'fhir'), host: '127.0.0.1', port: 0 });
  const fhir = new FhirClient({ baseUrl: fhirServer.url });
  const baseEnv: Record<string, string> = {
    DFA_DATA_DIR: join(root, 'agent'),
    DFA_PACS_HOST: '127.0.0.1',
    DFA_PACS_PORT: String(orthanc.dicomPort),
    DFA_PACS_AET: orthanc.aet,
    DFA_AET: 'DFA',
    DFA_SCP_PORT: String(scpPorts[0]),
    DFA_DICOMWEB_URL: orthanc.dicomWebUrl,
    DFA_FHIR_URL: fhirServer.url,
    DFA_LOG_LEVEL: 'warn',
    ...(o.databaseUrl ? { DFA_DATABASE_URL: o.databaseUrl } : {}),
  };
  const log = createLogger({ level: 'warn' });
  const pacs = await pacsFromConfig(loadConfig({ ...baseEnv, DFA_SCP_PORT: String(scpPorts[2]) }), log);
  let seeded: SeededStudy[];
  try {
    seeded = await seedDemoStudies({ pacs, fhir, workDir: join(root, 'phantoms'), ctStudies: o.ctStudies ?? 2, size: o.size ?? 128, slices: o.slices ?? 60, log });
  } finally {
    await pacs.close();
  }
  return {
    root,
    orthanc,
    fhirServer,
    fhir,
    seeded,
    env: (extra = {}) => ({ ...baseEnv, ...extra }),
    async stop() {
      await fhirServer.stop();
      await orthanc.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Spawns the real CLI (`bin/dfa.js`) under this Node (24) with only the given DFA_* environment. */
/** Runs `dfa <args>` as a child process, `nodeArgs` being flags for node itself (e.g. `--single-threaded`, `--cpu-prof`). */
export function spawnDfa(args: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = []): ChildProcess & { output: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DFA_')));
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'bin', 'dfa.js'), ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return Object.assign(child, { output });
}

/** RTSTRUCT instances Orthanc holds for a study (its own index, not ours). */
export async function rtstructInstances(w: World, studyUid: string): Promise<string[]> {
  const r = await w.orthanc.rest('/tools/find', {
    method: 'POST',
    body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyUid, Modality: 'RTSTRUCT' } }),
  });
  return (await r.json()) as string[];
}

export async function count(w: World, type: ResourceType, params: Record<string, string> = {}): Promise<number> {
  return (await w.fhir.search(type, { ...params, _count: '200' })).length;
}
