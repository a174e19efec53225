/**
 * Pushed studies reach the standing goal through the DICOM gateway (issue 13, issue 10 §4 "nothing
 * received is lost"): `dfa service dicom` (our SCP, the received-studies list) and `dfa serve` with
 * DFA_DICOM_URL + DFA_STANDING_GOAL as separate OS processes, sharing an artifact folder; a real
 * Orthanc pushes a phantom CT to the gateway's SCP. The first `dfa serve` is killed (SIGKILL) at
 * its acknowledgement of the study — the run had started, the gateway still lists the study —
 * (an HTTP gate in front of the gateway holds that request: no timing); the restarted one reads
 * the study again, does not start a second run, and acknowledges it. Exactly one RTSTRUCT in
 * Orthanc, one DiagnosticReport in FHIR, the gateway's list and inbox empty.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startFhirServer } from '../../src/fhir/dev-server/server.ts';
import { spawnDfaProcess, waitReady, type DfaProcess } from '../../src/serve/service-process.ts';
import { startHttpGate } from '../support/http-gate.ts';
import { startOrthanc } from '../support/orthanc.ts';
import { freePort } from '../support/ports.ts';

const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const TOKEN = 'push-gateway-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Resolves with `p`, or fails after `ms` (a hang guard, not a timing assertion). */
function within<T>(p: Promise<T>, ms: number, what: string, output: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms\n${output().slice(-4000)}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string, output: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Received {
  studies: { id: number; studyInstanceUid: string; callingAets: string[]; instances: { key: string }[] }[];
}

test('a study pushed to the dicom gateway runs the standing goal of a separate dfa serve once, across a SIGKILL before its acknowledgement', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-push-gw-'));
  const scpPort = await freePort();
  const orthanc = await startOrthanc({ modalities: { DFA: { aet: 'DFA', port: scpPort } } });
  const fhirServer = await startFhirServer({ dataDir: join(root, 'fhir'), host: '127.0.0.1', port: 0 });
  const procs: DfaProcess[] = [];
  const output = () => procs.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n');
  try {
    const store = join(root, 'store'); // the artifact folder both processes share
    const gwPort = await freePort();
    const gwUrl = `http://127.0.0.1:${gwPort}`;
    const gateway = spawnDfaProcess({
      name: 'dicom',
      args: ['service', 'dicom', '--port', String(gwPort)],
      url: gwUrl,
      env: {
        DFA_DATA_DIR: join(root, 'gateway'),
        DFA_STORAGE_URL: store,
        DFA_PACS_HOST: '127.0.0.1',
        DFA_PACS_PORT: String(orthanc.dicomPort),
        DFA_PACS_AET: orthanc.aet,
        DFA_DICOMWEB_URL: orthanc.dicomWebUrl,
        DFA_AET: 'DFA',
        DFA_SCP_PORT: String(scpPort),
        DFA_STANDING_GOAL_QUIET_MS: '500',
        DFA_API_AUTH: 'token',
        DFA_API_TOKEN: TOKEN,
        DFA_LOG_LEVEL: 'info',
      },
    });
    procs.push(gateway);
    await waitReady(gateway, { timeoutMs: 60_000, headers: auth });

    // The first dfa serve reaches the gateway through a gate that holds its acknowledgement.
    const gate = await startHttpGate(gwUrl, 1, (_, method, path) => method === 'POST' && path.startsWith('/received/ack'));
    const apiPort = await freePort();
    const serveEnv = (dicomUrl: string) => ({
      DFA_DATA_DIR: join(root, 'agent'),
      DFA_STORAGE_URL: store,
      DFA_DICOM_URL: dicomUrl,
      DFA_SERVICE_TOKEN: TOKEN,
      DFA_PACS_AET: orthanc.aet, // a push from the PACS itself is a notification: nothing to forward
      DFA_FHIR_URL: fhirServer.url,
      DFA_API_PORT: String(apiPort),
      DFA_STANDING_GOAL: GOAL,
      DFA_STANDING_REGISTER: '1',
      DFA_STANDING_POLL_MS: '200',
      DFA_STANDING_RETRY_MS: '500',
      DFA_LOG_LEVEL: 'info',
    });
    const api = `http://127.0.0.1:${apiPort}`;
    const serve1 = spawnDfaProcess({ name: 'serve-1', args: ['serve'], url: api, env: serveEnv(gate.url(0)) });
    procs.push(serve1);
    await waitReady(serve1, { timeoutMs: 120_000 });

    // The modality stored the study in Orthanc; Orthanc pushes it to the gateway's SCP.
    const ph = await writePhantomSeries({ size: 64, slices: 40, seed: 1313, modality: 'CT', patientId: 'PUSH-GW-1' }, join(root, 'ph'), false);
    const uid = ph.phantom.volume.meta.studyInstanceUid;
    let orthancStudy = '';
    for (const f of ph.files) {
      const r = await orthanc.rest('/instances', { method: 'POST', body: await readFile(f) });
      assert.equal(r.status, 200);
      orthancStudy = ((await r.json()) as { ParentStudy: string }).ParentStudy;
    }
    const push = await orthanc.rest('/modalities/DFA/store', { method: 'POST', body: orthancStudy });
    assert.equal(push.status, 200, await push.text());

    // dfa serve started the run and now acknowledges the study: killed right there.
    const caught = await within(gate.caught, 240_000, 'the standing goal never acknowledged the received study', output);
    assert.equal(caught.method, 'POST');
    await serve1.stop('SIGKILL');
    await gate.close();
    assert.match(serve1.output(), /standing goal run started/);
    const listed = (await (await fetch(`${gwUrl}/received`, { headers: auth })).json()) as Received;
    assert.equal(listed.studies.length, 1, 'not acknowledged: the gateway still lists the study');
    assert.equal(listed.studies[0]!.studyInstanceUid, uid);
    assert.deepEqual(listed.studies[0]!.callingAets, [orthanc.aet]);
    assert.equal(listed.studies[0]!.instances.length, ph.files.length);

    // Restart: the study is read again; its run had started, so it is not started twice.
    const serve2 = spawnDfaProcess({ name: 'serve-2', args: ['serve'], url: api, env: serveEnv(gwUrl) });
    procs.push(serve2);
    await waitReady(serve2, { timeoutMs: 120_000 });
    await within(serve2.waitFor(/not started again/, 120_000), 130_000, 'the restarted serve did not resume the study', output);
    await until(async () => ((await (await fetch(`${gwUrl}/received`, { headers: auth })).json()) as Received).studies.length === 0 || undefined, 60_000, 'acknowledged', output);

    const fhir = new FhirClient({ baseUrl: fhirServer.url });
    const runs = await until(
      async () => {
        const list = (await (await fetch(`${api}/runs`)).json()) as { finishedAt: string | null }[];
        const available = await fhir.search('ImagingStudy', { identifier: `urn:dicom:uid|urn:oid:${uid}`, status: 'available' }).catch(() => undefined);
        return list.length > 0 && list.every((r) => r.finishedAt) && available && available.length === 1 ? list : undefined;
      },
      300_000,
      'the run ended with the study available',
      output,
    );
    assert.equal(runs.length, 1, 'one run for the study, none started twice');

    const series = (await (await orthanc.rest(`/studies/${orthancStudy}/series?expand`)).json()) as { MainDicomTags: { Modality: string }; Instances: string[] }[];
    const rt = series.filter((s) => s.MainDicomTags.Modality === 'RTSTRUCT');
    assert.equal(rt.length, 1, 'one RTSTRUCT series');
    assert.equal(rt[0]!.Instances.length, 1, 'one RTSTRUCT instance');
    const reports = await fhir.search('DiagnosticReport', {});
    assert.equal(reports.length, 1, 'one DiagnosticReport');

    // Acknowledged: the gateway removed its inbox copies from the shared store.
    const inbox = (await readdir(store, { recursive: true }).catch(() => [] as string[])).filter((f) => f.startsWith('inbox') && f.endsWith('.dcm'));
    assert.deepEqual(inbox, []);
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await fhirServer.stop();
    await orthanc.stop();
    await rm(root, { recursive: true, force: true });
  }
});
