/**
 * The end-to-end benchmark's world: a real Orthanc (loopback, TCP_NODELAY=1 — see
 * test/support/orthanc.ts), the embedded FHIR dev server, and phantom CT studies stored in Orthanc
 * and registered in FHIR as pending ImagingStudies. Unlike test/e2e/world.ts it seeds studies of a
 * chosen size one by one (a 512×512×300 study is ~160 MB) and deletes the phantom files once
 * Orthanc holds them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/agent/plan.ts';
import { planGoal } from '../../src/agent/planner/index.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Logger } from '../../src/core/log.ts';
import { randomUid } from '../../src/core/uid.ts';
import { pacsFromConfig } from '../../src/dicom/pacs-from-config.ts';
import { writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startFhirServer, type FhirServer } from '../../src/fhir/dev-server/server.ts';
import { registerStudy } from '../../src/fhir/register-study.ts';
import { GOAL } from '../../test/e2e/world.ts';
import { startOrthanc, type OrthancHandle } from '../../test/support/orthanc.ts';
import { freePort } from '../../test/support/ports.ts';

/** AE title the dcmtk reference tools (getscu) call Orthanc with. */
export const DCMTK_AET = 'BENCHSCU';

export interface BenchStudy {
  readonly studyInstanceUid: string;
  readonly size: number;
  readonly slices: number;
  readonly storeSeconds: number;
}

export interface BenchWorld {
  readonly root: string;
  readonly orthanc: OrthancHandle;
  readonly fhirServer: FhirServer;
  /** A loopback port our SCP may listen on, known to Orthanc under AE DFA (C-MOVE destination, C-GET caller). */
  scpPort(): number;
  /** DFA_* environment for an agent pointed at this Orthanc and FHIR server; `extra` overrides. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A phantom CT study stored in Orthanc (C-STORE) and registered in FHIR as `registered`. */
  seedStudy(o: { size: number; slices: number; seed: number; label: string }): Promise<BenchStudy>;
  /**
   * Deletes our results (RTSTRUCT, SEG) from the study in Orthanc, so the next round retrieves the
   * same pristine CT study as the first and the fetch floor fetches what the agent fetched.
   */
  removeResults(studyUid: string): Promise<number>;
  stop(): Promise<void>;
}

/** DFA_* knobs a user may set for the bench run (which retrieval, segmenter, store method…). */
const PASSED_THROUGH = ['DFA_RETRIEVE', 'DFA_STORE', 'DFA_SEGMENTER', 'DFA_FALLBACK_SEGMENTER', 'DFA_MODEL_DIR'];

/**
 * The example goal's plan, narrowed to the given studies and forced to redo them: each run is a new
 * job generation that retrieves, segments, stores and records again (plan.rerun, status any).
 */
export async function rerunPlan(env: Record<string, string>, studies: readonly string[]): Promise<Plan> {
  const plan = await planGoal(GOAL, loadConfig(env));
  return { ...plan, rerun: true, selection: { ...plan.selection, status: 'any', studyInstanceUids: [...studies] } };
}

export async function startBenchWorld(o: { scpPorts: number; log: Logger }): Promise<BenchWorld> {
  const root = await mkdtemp(join(tmpdir(), 'dfa-bench-e2e-'));
  let orthanc: OrthancHandle | undefined;
  let fhirServer: FhirServer | undefined;
  try {
    const ports: number[] = [];
    for (let i = 0; i < o.scpPorts + 1; i++) ports.push(await freePort());
    const modalities: Record<string, { aet: string; port: number }> = Object.fromEntries(ports.map((p, i) => [`dfa${i}`, { aet: 'DFA', port: p }]));
    modalities.dcmtk = { aet: DCMTK_AET, port: 1 }; // getscu: C-GET needs the calling AE known
    orthanc = await startOrthanc({ modalities });
    fhirServer = await startFhirServer({ dataDir: join(root, 'fhir'), host: '127.0.0.1', port: 0 });
    const fhir = new FhirClient({ baseUrl: fhirServer.url });
    const passed = Object.fromEntries(PASSED_THROUGH.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
    const baseEnv: Record<string, string> = {
      DFA_DATA_DIR: join(root, 'agent'),
      DFA_PACS_HOST: '127.0.0.1',
      DFA_PACS_PORT: String(orthanc.dicomPort),
      DFA_PACS_AET: orthanc.aet,
      DFA_AET: 'DFA',
      DFA_SCP_PORT: String(ports[1]),
      DFA_DICOMWEB_URL: orthanc.dicomWebUrl,
      DFA_FHIR_URL: fhirServer.url,
      DFA_LOG_LEVEL: 'warn',
      ...passed,
    };
    const seedPort = ports[0];
    let nextPort = 1;
    const pacs = await pacsFromConfig(loadConfig({ ...baseEnv, DFA_SCP_PORT: String(seedPort), DFA_DATA_DIR: join(root, 'seeder') }), o.log);
    const w: BenchWorld = {
      root,
      orthanc,
      fhirServer,
      scpPort() {
        if (nextPort >= ports.length) throw new Error('bench: out of SCP ports known to Orthanc');
        return ports[nextPort++];
      },
      env: (extra = {}) => ({ ...baseEnv, ...extra }),
      async seedStudy(s) {
        const dir = join(root, `phantom-${s.seed}`);
        try {
          const written = await writePhantomSeries(
            {
              size: s.size,
              slices: s.slices,
              seed: s.seed,
              modality: 'CT',
              studyInstanceUid: randomUid(),
              patientId: `BENCH-${s.seed}`,
              patientName: `Bench^${s.label}`,
              accessionNumber: `BENCH${s.seed}`,
              studyDescription: 'CT CHEST (synthetic phantom, benchmark)',
            },
            dir,
            false,
          );
          const studyUid = written.phantom.volume.meta.studyInstanceUid;
          const t0 = performance.now();
          const stored = await pacs.store([...written.files]);
          const storeSeconds = (performance.now() - t0) / 1000;
          const refused = stored.filter((r) => !r.ok);
          if (refused.length) throw new Error(`bench: Orthanc refused ${refused.length} instance(s): ${refused[0].reason ?? refused[0].status}`);
          await registerStudy(fhir, pacs, studyUid, { serviceRequest: true });
          return { studyInstanceUid: studyUid, size: s.size, slices: s.slices, storeSeconds };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      async removeResults(studyUid) {
        let n = 0;
        for (const modality of ['RTSTRUCT', 'SEG']) {
          const r = await orthanc!.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyUid, Modality: modality } }) });
          for (const id of (await r.json()) as string[]) {
            const d = await orthanc!.rest(`/instances/${id}`, { method: 'DELETE' });
            if (!d.ok) throw new Error(`bench: Orthanc did not delete instance ${id}: HTTP ${d.status}`);
            n++;
          }
        }
        return n;
      },
      async stop() {
        await pacs.close().catch(() => undefined);
        await fhirServer?.stop().catch(() => undefined);
        await orthanc?.stop().catch(() => undefined);
        await rm(root, { recursive: true, force: true });
      },
    };
    return w;
  } catch (e) {
    await fhirServer?.stop().catch(() => undefined);
    await orthanc?.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    throw e;
  }
}
