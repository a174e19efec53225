/**
 * `dfa serve` in front of a real Orthanc: the PACS pushes a study to our SCP (as a routing rule
 * would notify us). A push from the PACS's own AE is not forwarded back; the study is registered in
 * FHIR and the standing goal runs for it, storing one RTSTRUCT in Orthanc.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startOrthanc } from '../../test/support/orthanc.ts';
import { freePort } from '../../test/support/ports.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { writePhantomSeries } from '../dicom/phantom/index.ts';
import { startServe } from './serve.ts';
import type { Trigger } from './standing-goal.ts';

const log = createLogger({ level: 'error' });

test('standing goal on a study Orthanc pushes to our SCP: not forwarded back, registered, contoured', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-orthanc-'));
  const scpPort = await freePort();
  const orthanc = await startOrthanc({ modalities: { DFA: { aet: 'DFA', port: scpPort } } });
  try {
    const cfg = loadConfig({
      DFA_DATA_DIR: root,
      DFA_API_PORT: String(await freePort()),
      DFA_SCP_PORT: String(scpPort),
      DFA_PACS_HOST: '127.0.0.1',
      DFA_PACS_PORT: String(orthanc.dicomPort),
      DFA_PACS_AET: orthanc.aet,
      DFA_STANDING_GOAL: 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS',
      DFA_STANDING_GOAL_QUIET_MS: '500',
      DFA_STANDING_REGISTER: '1',
    });
    const served = await startServe(cfg, log);
    try {
      assert.equal((await fetch(`${served.apiUrl}/ready`)).status, 200);
      // The modality stored the study in the PACS; the PACS pushes it on to us.
      const ph = await writePhantomSeries({ size: 96, slices: 40, seed: 555, modality: 'CT', patientId: 'ORTH-1' }, join(root, 'ph'), false);
      let orthancStudy = '';
      for (const f of ph.files) {
        const r = await orthanc.rest('/instances', { method: 'POST', body: await readFile(f) });
        assert.equal(r.status, 200);
        orthancStudy = ((await r.json()) as { ParentStudy: string }).ParentStudy;
      }
      const triggered = new Promise<Trigger>((res) => (served.standing!.onTrigger = res));
      const push = await orthanc.rest('/modalities/DFA/store', { method: 'POST', body: orthancStudy });
      assert.equal(push.status, 200, await push.text());
      const t = await triggered;
      assert.equal(t.error, undefined);
      assert.equal(t.studyInstanceUid, ph.phantom.volume.meta.studyInstanceUid);
      assert.equal(t.instances, ph.files.length);
      assert.equal(t.forwarded, 0, 'a push from the PACS itself is a notification, not forwarded back');

      let run: { finishedAt: string | null; summary: unknown; jobs: { status: string; reason: string | null }[] };
      do {
        await new Promise((r) => setTimeout(r, 200));
        run = (await (await fetch(`${served.apiUrl}/runs/${t.runId}`)).json()) as typeof run;
      } while (!run.finishedAt);
      assert.deepEqual(run.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 }, JSON.stringify(run.jobs));
      const series = (await (await orthanc.rest(`/studies/${orthancStudy}/series?expand`)).json()) as { MainDicomTags: { Modality: string } }[];
      assert.deepEqual(series.map((s) => s.MainDicomTags.Modality).sort(), ['CT', 'RTSTRUCT']);
      // The PACS holds the study and the run has started: the pushed copies left our inbox.
      const inboxFiles = (await readdir(root, { recursive: true })).filter((f) => f.split('/').includes('inbox') && f.endsWith('.dcm'));
      assert.deepEqual(inboxFiles, []);
    } finally {
      await served.close();
    }
  } finally {
    await orthanc.stop();
    await rm(root, { recursive: true, force: true });
  }
});
