/**
 * An outage pauses the work, it does not fail it (issue 10 §5). One goal run of several studies
 * against a real Orthanc and the dev FHIR server as its own process. Once the first job has
 * succeeded, Orthanc is stopped (the process, not a mock) for OUTAGE_S seconds and started again on
 * the same ports with the same storage; then the FHIR server is frozen (SIGSTOP: connections are
 * accepted but never answered, as a hung server) for OUTAGE_S seconds. The one run finishes every
 * study, and while each outage lasts the jobs say "waiting for PACS / FHIR since …".
 * Without the breaker this fails: the default retries (5 attempts, 1 + 2 + 4 + 8 s) are spent in
 * ~15 s, far less than the outage (60 s unless DFA_TEST_OUTAGE_S says otherwise).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { seedDemoStudies } from '../../src/agent/demo/seed-studies.ts';
import { planGoal } from '../../src/agent/planner/index.ts';
import { runPlan, type RunProgress } from '../../src/agent/runner.ts';
import { openAgent } from '../../src/agent/wiring.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { createPacs } from '../../src/dicom/pacs.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startOrthanc } from '../support/orthanc.ts';
import { freePort } from '../support/ports.ts';

const DFA = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const OUTAGE_S = Number(process.env.DFA_TEST_OUTAGE_S ?? 60);
const STUDIES = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startFhirProcess(dataDir: string, port: number) {
  const p = spawn(process.execPath, [DFA, 'fhir', 'serve', '--port', String(port)], { env: { ...process.env, DFA_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  while (!/FHIR R4 dev server: (\S+)/.test(out)) {
    if (p.exitCode !== null) throw new Error(`dfa fhir serve exited: ${out}`);
    await sleep(50);
  }
  return { p, url: /FHIR R4 dev server: (\S+)/.exec(out)![1].replace(/[;,]$/, '') };
}

test(`a run of ${STUDIES} studies rides out Orthanc stopped for ${OUTAGE_S} s and the FHIR server hung for ${OUTAGE_S} s`, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-outage-'));
  const orthanc = await startOrthanc({ modalities: { DFA: { aet: 'DFA', port: await freePort() } } });
  const fhirProc = await startFhirProcess(join(root, 'fhir'), await freePort());
  const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
  const lines: string[] = [];
  const t0 = Date.now();
  const mark = (what: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  try {
    const cfg = loadConfig({
      DFA_DATA_DIR: join(root, 'dfa'),
      DFA_PACS_HOST: '127.0.0.1',
      DFA_PACS_PORT: String(orthanc.dicomPort),
      DFA_PACS_AET: orthanc.aet,
      DFA_RETRIEVE: 'c-get',
      DFA_FHIR_URL: fhirProc.url,
      DFA_FHIR_TIMEOUT_MS: '2000',
      DFA_DIMSE_CONNECT_TIMEOUT_MS: '2000',
      DFA_OUTAGE_PROBE_MS: '500',
      DFA_OUTAGE_PROBE_MAX_MS: '2000',
      DFA_OUTAGE_PROBE_TIMEOUT_MS: '1000',
    });
    const seedPacs = createPacs({ dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'DFA' }, retrieve: ['c-get'], store: 'c-store', log });
    const seeded = await seedDemoStudies({ pacs: seedPacs, fhir: new FhirClient({ baseUrl: fhirProc.url }), workDir: join(root, 'seed'), ctStudies: STUDIES, size: 64, slices: 30, withMr: false, withBroken: false, log });
    await seedPacs.close();
    mark(`${seeded.length} studies in Orthanc and FHIR`);

    const plan = await planGoal(GOAL, cfg);
    const agent = await openAgent(cfg, log);
    const progress: RunProgress[] = [];
    let succeeded = 0;
    try {
      const outages = (async () => {
        while (succeeded < 1) await sleep(100);
        // A crash, not a graceful stop: on SIGTERM Orthanc first serves the associations in progress,
        // long enough for the remaining small studies to finish before the "outage" begins.
        await orthanc.halt('SIGKILL');
        mark('Orthanc stopped (SIGKILL)');
        await sleep(OUTAGE_S * 1000);
        await orthanc.start();
        mark('Orthanc started again (same ports, same storage); FHIR server frozen (SIGSTOP)');
        fhirProc.p.kill('SIGSTOP');
        await sleep(OUTAGE_S * 1000);
        fhirProc.p.kill('SIGCONT');
        mark('FHIR server resumed (SIGCONT)');
      })();
      const run = await runPlan(plan, agent.db, agent.deps, {
        workers: 1,
        onProgress: (p) => {
          progress.push(p);
          if (p.status === 'succeeded') succeeded++;
          if (p.waiting) mark(`${p.studyInstanceUid.slice(-12)}: ${p.waiting}`);
        },
      });
      mark(`run ended: ${JSON.stringify(run.summary)}`);
      await outages;
      assert.deepEqual(run.summary, { succeeded: STUDIES, failed: 0, skipped: 0, review: 0 }, `${JSON.stringify(run.jobs.map((j) => [j.status, j.step, j.reason]))}\n${lines.slice(-30).join('\n')}`);
      const waited = progress.map((p) => p.waiting).filter((w): w is string => !!w);
      assert.ok(waited.some((w) => /^waiting for PACS since \d{4}-/.test(w)), `a job said it waits for the PACS: ${JSON.stringify(waited)}`);
      assert.ok(waited.some((w) => /^waiting for FHIR since \d{4}-/.test(w)), `a job said it waits for FHIR: ${JSON.stringify(waited)}`);
      // Each study's RTSTRUCT is in Orthanc once.
      for (const s of seeded) {
        const hits = (await (await orthanc.rest('/tools/lookup', { method: 'POST', body: s.studyInstanceUid })).json()) as { ID: string; Type: string }[];
        const id = hits.find((h) => h.Type === 'Study')!.ID;
        const series = (await (await orthanc.rest(`/studies/${id}/series`)).json()) as { MainDicomTags: { Modality: string } }[];
        assert.deepEqual(series.map((x) => x.MainDicomTags.Modality).sort(), ['CT', 'RTSTRUCT']);
      }
      // The audit tells the story: waiting, then waited, and no retries spent on the outage itself.
      const kinds = (await agent.db.pool.query<{ kind: string; message: string }>(`select kind, message from dfa.job_events where kind in ('waiting', 'waited') order by id`)).rows;
      assert.ok(kinds.some((k) => k.kind === 'waited' && /answers again/.test(k.message)));
    } finally {
      await agent.close();
    }
  } finally {
    if (fhirProc.p.exitCode === null) {
      fhirProc.p.kill('SIGCONT');
      fhirProc.p.kill('SIGTERM');
    }
    await orthanc.stop();
    await rm(root, { recursive: true, force: true });
  }
});
