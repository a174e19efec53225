/**
 * `dfa run` with the PACS and FHIR behind their own services (DFA_DICOM_URL, DFA_FHIR_SERVICE_URL):
 * the dicom_handler and fhir_handler built as `dfa service dicom|fhir` builds them (embedded dev PACS
 * and our SCP in the dicom service, a FHIR server only the fhir service knows), real HTTP on
 * loopback with token auth. The agent has no PACS or FHIR settings of its own; DICOM moves by key
 * through the artifact folder it shares with the dicom service (one DFA_DATA_DIR).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { wireServices } from '../../src/agent/wiring.ts';
import { main } from '../../src/cli/main.ts';
import { SERVICES } from '../../src/cli/service-table.ts';
import { loadConfig } from '../../src/core/config.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startFhirServer } from '../../src/fhir/dev-server/server.ts';
import { FhirImagingWorkflow } from '../../src/fhir/imaging-workflow.ts';
import { registerStudy } from '../../src/fhir/register-study.ts';
import { startService } from '../../src/services/service-server.ts';
import { freePort } from '../support/ports.ts';

const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const TOKEN = 'e2e-services-token-0123456789abcd';

test('dfa run through the dicom_handler and fhir_handler: one RTSTRUCT in the PACS, the FHIR report; a second run adds nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-svc-e2e-'));
  const fhirServer = await startFhirServer();
  const data = join(root, 'data');
  const svcLog = memoryLogger('info');
  const svcCfg = loadConfig({ DFA_DATA_DIR: data, DFA_SCP_PORT: String(await freePort()), DFA_FHIR_URL: fhirServer.url, DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
  const dicom = await startService(await SERVICES['dicom']!.build(svcCfg, svcLog), svcCfg, { host: '127.0.0.1', port: 0, version: 'test', log: svcLog });
  const fhirSvc = await startService(await SERVICES['fhir']!.build(svcCfg, svcLog), svcCfg, { host: '127.0.0.1', port: 0, version: 'test', log: svcLog });
  try {
    const config = loadConfig({ DFA_DATA_DIR: data, DFA_DICOM_URL: dicom.url, DFA_FHIR_SERVICE_URL: fhirSvc.url, DFA_SERVICE_TOKEN: TOKEN, DFA_LOG_LEVEL: 'warn' });
    const log = memoryLogger('warn');
    const study = '1.2.826.0.1.3680043.9.7791.13';
    const client = new FhirClient({ baseUrl: fhirServer.url });
    {
      // The phantom goes into the PACS through the dicom service (store from artifact keys).
      const s = await wireServices(config, log);
      const ct = await writePhantomSeries({ size: 128, slices: 80, patientId: 'PAT13', studyInstanceUid: study }, join(root, 'phantom'), false);
      const stored = await s.deps.pacs.store(ct.files);
      assert.ok(stored.length === ct.files.length && stored.every((r) => r.ok && r.status === 0), JSON.stringify(stored.find((r) => !r.ok)));
      await registerStudy(client, s.deps.pacs, study);
      await s.close();
    }

    const lines: string[] = [];
    const ctx = { config, log, out: (l: string) => lines.push(l) };
    assert.equal(await main(['run', '--json', GOAL], ctx), 0, lines.join('\n'));
    const r = JSON.parse(lines.join('\n')) as { jobs: { status: string; rtstruct?: { seriesInstanceUid: string; sopInstanceUid: string }; diagnosticReport?: string }[]; summary: Record<string, number> };
    assert.deepEqual(r.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 });
    assert.ok(svcLog.lines.some((l) => l.includes('retrieved into the artifact store')), 'the study came through the dicom service');
    const rt = r.jobs[0]?.rtstruct;
    assert.ok(rt);
    assert.match(r.jobs[0]?.diagnosticReport ?? '', /^DiagnosticReport\//);

    const s = await wireServices(config, log);
    try {
      assert.deepEqual((await s.deps.pacs.findInstances(study, rt.seriesInstanceUid)).map((i) => i.sopInstanceUid), [rt.sopInstanceUid]);
      assert.equal((await s.deps.fhir.findWork({ status: 'available', studyInstanceUid: study })).length, 1);
    } finally {
      await s.close();
    }
    assert.equal((await new FhirImagingWorkflow(client).findWork({ status: 'registered', studyInstanceUid: study })).length, 0);

    lines.length = 0;
    assert.equal(await main(['run', GOAL], ctx), 0);
    assert.match(lines.join('\n'), /0 succeeded, 0 failed, 0 skipped/);
  } finally {
    await dicom.close();
    await fhirSvc.close();
    await fhirServer.stop();
    await rm(root, { recursive: true, force: true });
  }
});
