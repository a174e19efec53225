import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runDemoGoal, type DemoOptions, type DemoReport } from '../agent/demo/run-demo.ts';
import { freePort } from '../agent/free-port.ts';
import { openAgent } from '../agent/wiring.ts';
import { loadConfig } from '../core/config.ts';
import { pacsFromConfig } from '../dicom/pacs-from-config.ts';
import { FhirClient } from '../fhir/client.ts';
import { spawnDfaProcess, type DfaProcess } from './service-process.ts';
import { startTopology } from './topology.ts';

/**
 * `dfa demo --services`: the demo with the deployment's topology as local processes, so a newcomer
 * can watch the services talk. Stand-ins for the hospital: the embedded dev PACS (`dfa pacs`) and
 * the embedded FHIR server (`dfa fhir serve`), each its own process; then `dfa service storage`,
 * `ml` ×2, `dicom` (our SCP, a C-MOVE destination the PACS knows) and `fhir` (src/serve/topology.ts).
 * The agent (planner, jobs, embedded database) is this process, reaching every service over HTTP;
 * the phantoms are seeded straight into the stand-ins, as a scanner and the RIS would. Every process
 * is stopped afterwards, also when the demo fails.
 */
export interface ServicesDemoOptions extends DemoOptions {
  /** ml_processor replicas (default 2). */
  readonly mlReplicas?: number;
  /** DFA_* settings passed on to every process (segmenter, model folder, log level…). */
  readonly passEnv?: Readonly<Record<string, string>>;
  /** Each process once it is up (name, URL) — the demo prints them. */
  readonly onProcess?: (p: { name: string; url: string; pid: number }) => void;
}

export async function runServicesDemo(o: ServicesDemoOptions): Promise<DemoReport & { processes: { name: string; url: string }[] }> {
  const dataDir = resolve(o.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const common = { DFA_LOG_LEVEL: 'warn', ...(o.passEnv ?? {}) };
  const standIns: DfaProcess[] = [];
  const processes: { name: string; url: string }[] = [];
  const tell = (name: string, url: string, pid: number) => {
    processes.push({ name, url });
    o.onProcess?.({ name, url, pid });
  };
  const closers: (() => Promise<void>)[] = [];
  // Interrupted (Ctrl-C, or a SIGTERM to this process alone): stop every process we started first.
  const onSignal = (signal: NodeJS.Signals) => {
    void (async () => {
      for (const c of closers) await c().catch(() => undefined);
      process.kill(process.pid, signal);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  try {
    const scpPort = await freePort();
    const pacsPort = await freePort();
    const fhirPort = await freePort();
    // The gateway's SCP is the PACS's C-MOVE destination DFA (dfa pacs learns it from DFA_SCP_PORT).
    const pacs = spawnDfaProcess({ name: 'pacs', args: ['pacs', '--port', String(pacsPort)], env: { ...common, DFA_DATA_DIR: join(dataDir, 'pacs'), DFA_SCP_PORT: String(scpPort) } });
    const fhir = spawnDfaProcess({ name: 'fhir-server', args: ['fhir', 'serve', '--port', String(fhirPort)], env: { ...common, DFA_DATA_DIR: join(dataDir, 'fhir-server') } });
    standIns.push(pacs, fhir);
    closers.push(async () => {
      for (const p of standIns) await p.stop('SIGTERM');
    });
    await pacs.waitFor(/listening on/, 60_000);
    tell('PACS (embedded dev PACS, stand-in)', `dicom://DFA_PACS@127.0.0.1:${pacsPort}`, pacs.pid);
    const fhirUrl = (await fhir.waitFor(/FHIR R4 dev server: \S+/, 60_000)).match(/server: (\S+?);?(\s|$)/)?.[1] ?? `http://127.0.0.1:${fhirPort}/fhir`;
    tell('FHIR server (embedded, stand-in)', fhirUrl, fhir.pid);

    const dicomEnv = { DFA_PACS_HOST: '127.0.0.1', DFA_PACS_PORT: String(pacsPort), DFA_PACS_AET: 'DFA_PACS', DFA_AET: 'DFA', DFA_SCP_PORT: String(scpPort) };
    const topo = await startTopology({
      root: join(dataDir, 'services'),
      mlReplicas: o.mlReplicas ?? 2,
      dicomEnv,
      fhirEnv: { DFA_FHIR_URL: fhirUrl },
      commonEnv: common,
      onReady: (p) => tell(`${p.name} (dfa service)`, p.url ?? '', p.pid),
    });
    closers.unshift(() => topo.stop());

    // The agent: this process, every port remote; its own embedded database.
    const cfg = loadConfig({ ...common, ...topo.agentEnv, DFA_DATA_DIR: join(dataDir, 'agent'), DFA_SCP_PORT: String(await freePort()) });
    const agent = await openAgent(cfg, o.log);
    closers.unshift(() => agent.close());
    // Seeding: straight into the stand-ins (the scanner's and the RIS's part, not the agent's).
    const seedPacs = await pacsFromConfig(loadConfig({ ...common, ...dicomEnv, DFA_SCP_PORT: String(await freePort()), DFA_DATA_DIR: join(dataDir, 'seeder') }), o.log);
    closers.unshift(() => seedPacs.close());
    const startup = Date.now() - t0;
    const goal = await runDemoGoal(cfg, agent, { ...o, pacs: seedPacs, fhirClient: new FhirClient({ baseUrl: fhirUrl }) });
    return { ...goal, dataDir, fhirUrl, timingsMs: { startup, ...goal.timingsMs }, processes };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of closers) await c().catch(() => undefined);
  }
}
