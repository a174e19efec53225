/**
 * `dfa run` with everything real and embedded: the dev PACS and dev FHIR server under DFA_DATA_DIR
 * (persisted), the embedded PGlite, the classical segmenter, the RTSTRUCT writer. A phantom CT is
 * stored and registered first (those servers are then closed; `dfa run` reopens them from disk).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { memoryLogger } from '../../core/log.ts';
import { writePhantomSeries } from '../../dicom/phantom/index.ts';
import { fhirFromConfig } from '../../fhir/fhir-from-config.ts';
import { registerStudy } from '../../fhir/register-study.ts';
import { wireServices } from '../../agent/wiring.ts';
import { freePort } from '../../../test/support/ports.ts';
import { main } from '../main.ts';

const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';

test('dfa run --json: a registered phantom CT gets one RTSTRUCT in the PACS and its FHIR report; a second run adds nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-run-verb-'));
  try {
    const config = loadConfig({ DFA_DATA_DIR: join(root, 'data'), DFA_SCP_PORT: String(await freePort()), DFA_LOG_LEVEL: 'warn' });
    const log = memoryLogger('warn');
    const study = '1.2.826.0.1.3680043.9.7791.1';
    {
      const fhir = await fhirFromConfig(config, log);
      const s = await wireServices(config, log, { overrides: { fhir: fhir.workflow } });
      const ct = await writePhantomSeries({ size: 128, slices: 80, patientId: 'PAT1', studyInstanceUid: study }, join(root, 'phantom'), false);
      assert.ok((await s.deps.pacs.store(ct.files)).every((r) => r.ok));
      await registerStudy(fhir.client, s.deps.pacs, study);
      await s.close();
      await fhir.close();
    }

    const lines: string[] = [];
    const ctx = { config, log, out: (l: string) => lines.push(l) };
    assert.equal(await main(['run', '--json', GOAL], ctx), 0);
    const r = JSON.parse(lines.join('\n')) as {
      goal: string;
      jobs: { studyInstanceUid: string; status: string; rtstruct?: { seriesInstanceUid: string; sopInstanceUid: string }; diagnosticReport?: string; volumesMl?: Record<string, number>; timingsMs: Record<string, number> }[];
      summary: Record<string, number>;
    };
    assert.equal(r.goal, GOAL);
    assert.deepEqual(r.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 });
    const job = r.jobs[0];
    assert.equal(job.studyInstanceUid, study);
    assert.match(job.diagnosticReport ?? '', /^DiagnosticReport\//);
    assert.ok((job.volumesMl?.Lung_L ?? 0) > 500 && (job.volumesMl?.Lung_R ?? 0) > 500, JSON.stringify(job.volumesMl));
    assert.deepEqual(Object.keys(job.timingsMs).slice(0, 3), ['find', 'ensureTask', 'retrieve']);

    // What the PACS and FHIR now hold, read back through fresh services.
    const fhir = await fhirFromConfig(config, log);
    const s = await wireServices(config, log, { overrides: { fhir: fhir.workflow } });
    try {
      const rt = job.rtstruct;
      assert.ok(rt);
      const inst = await s.deps.pacs.findInstances(study, rt.seriesInstanceUid);
      assert.deepEqual(inst.map((i) => i.sopInstanceUid), [rt.sopInstanceUid]);
      assert.equal((await fhir.workflow.findWork({ status: 'registered', studyInstanceUid: study })).length, 0);
      assert.equal((await fhir.workflow.findWork({ status: 'available', studyInstanceUid: study })).length, 1);
    } finally {
      await s.close();
      await fhir.close();
    }

    lines.length = 0;
    assert.equal(await main(['run', GOAL], ctx), 0);
    assert.match(lines.join('\n'), /0 succeeded, 0 failed, 0 skipped/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
