import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImagingStudy, Task } from '@medplum/fhirtypes';
import { studyUidSearch } from '../../src/fhir/dicom-fhir-ids.ts';
import { dciodvfy } from '../support/rt-tools.ts';
import { count, GOAL, rtstructInstances, spawnDfa, startWorld, type World } from './world.ts';

interface RunJson {
  jobs: { studyInstanceUid: string; status: string; reason?: string; rtstruct?: { sopInstanceUid: string }; diagnosticReport?: string; volumesMl?: Record<string, number> }[];
  summary: { succeeded: number; failed: number; skipped: number };
}

async function study(w: World, uid: string): Promise<ImagingStudy> {
  const [s] = await w.fhir.search<ImagingStudy>('ImagingStudy', { identifier: studyUidSearch(uid) });
  return s;
}

/** What issue 5 asks of every finished run: CTs done once, MR untouched, broken one failed with its reason. */
async function checkWorld(w: World, r: RunJson) {
  for (const s of w.seeded) {
    const job = r.jobs.find((j) => j.studyInstanceUid === s.studyInstanceUid);
    const is = await study(w, s.studyInstanceUid);
    const rts = await rtstructInstances(w, s.studyInstanceUid);
    const tasks = await w.fhir.search<Task>('Task', { focus: s.imagingStudy });
    if (s.kind === 'ct') {
      assert.equal(rts.length, 1, `${s.label}: exactly one RTSTRUCT in Orthanc`);
      assert.equal(is.status, 'available', `${s.label}: ImagingStudy available`);
      assert.ok(is.series?.some((x) => x.modality.code === 'RTSTRUCT'), `${s.label}: RTSTRUCT series added to ImagingStudy`);
      assert.equal(await count(w, 'DiagnosticReport', { subject: is.subject!.reference! }), 1, `${s.label}: one DiagnosticReport`);
      assert.equal(tasks.length, 1, `${s.label}: one Task`);
      assert.equal(tasks[0].status, 'completed');
      // The RTSTRUCT in Orthanc passes the DICOM IOD validator.
      const file = new Uint8Array(await (await w.orthanc.rest(`/instances/${rts[0]}/file`)).arrayBuffer());
      const v = await dciodvfy(file);
      assert.equal(v.errors.length, 0, `${s.label}: dciodvfy errors: ${v.errors.join('; ')}`);
      if (job) {
        for (const [roi, ml] of Object.entries(job.volumesMl ?? {})) {
          const truth = s.truthMl?.[roi];
          if (truth) assert.ok(Math.abs(ml - truth) / truth < 0.05, `${s.label} ${roi}: ${ml} mL vs truth ${truth} mL`);
        }
      }
    } else {
      assert.equal(rts.length, 0, `${s.label}: no RTSTRUCT`);
      assert.equal(is.status, 'registered', `${s.label}: ImagingStudy left registered`);
      if (s.kind === 'mr') assert.equal(tasks.length, 0, 'MR: no Task, FHIR untouched');
      if (s.kind === 'broken') assert.equal(tasks[0]?.status, 'failed', 'broken: Task failed');
    }
    if (job) {
      assert.equal(job.status === 'skipped' && s.kind === 'ct' ? 'succeeded' : job.status, s.expected, `${s.label}: ${job.status} ${job.reason ?? ''}`);
    }
  }
  const broken = r.jobs.find((j) => j.studyInstanceUid === w.seeded.find((s) => s.kind === 'broken')!.studyInstanceUid);
  assert.match(broken?.reason ?? '', /DICOM_MISSING_SLICES|missing slice/, 'broken series failed with its reason');
  const mr = r.jobs.find((j) => j.studyInstanceUid === w.seeded.find((s) => s.kind === 'mr')!.studyInstanceUid);
  assert.equal(mr?.status, 'skipped', 'MR skipped');
  assert.match(mr?.reason ?? '', /MR/);
}

test('example goal against real Orthanc + FHIR: results once, MR skipped, broken failed; a second run adds nothing', async () => {
  const w = await startWorld();
  try {
    const first = await spawnDfa(['run', '--json', GOAL], w.env()).output;
    assert.equal(first.code, 1, `exit 1: one job failed (stderr: ${first.stderr.slice(-2000)})`);
    const r1 = JSON.parse(first.stdout) as RunJson;
    assert.deepEqual(r1.summary, { succeeded: 2, failed: 1, skipped: 1, review: 0 });
    await checkWorld(w, r1);
    const reports = await count(w, 'DiagnosticReport');
    const observations = await count(w, 'Observation');
    const provenance = await count(w, 'Provenance');
    assert.equal(provenance, 2, 'one Provenance per CT');

    const second = await spawnDfa(['run', '--json', GOAL], w.env()).output;
    const r2 = JSON.parse(second.stdout) as RunJson;
    for (const s of w.seeded.filter((x) => x.kind === 'ct')) {
      const j = r2.jobs.find((x) => x.studyInstanceUid === s.studyInstanceUid);
      // Finished CTs are no longer `registered` in FHIR, so the second run does not even select them.
      assert.ok(!j || j.status === 'skipped', `${s.label} not redone`);
    }
    await checkWorld(w, r2.jobs.length ? r2 : r1);
    assert.equal(await count(w, 'DiagnosticReport'), reports, 'no second DiagnosticReport');
    assert.equal(await count(w, 'Observation'), observations, 'no second Observation');
    assert.equal(await count(w, 'Provenance'), provenance, 'no second Provenance');
  } finally {
    await w.stop();
  }
});

test('kill -9 mid-run, restart: finishes with no duplicates', async () => {
  const w = await startWorld({ ctStudies: 3 });
  try {
    const child = spawnDfa(['run', '--json', GOAL], w.env());
    const ctUids = w.seeded.filter((s) => s.kind === 'ct').map((s) => s.studyInstanceUid);
    // Kill as soon as the first RTSTRUCT reaches the PACS: that job has stored but not yet recorded
    // FHIR results, and later CT jobs have not started (one worker).
    let doneAtKill = -1;
    for (let i = 0; i < 1200 && child.exitCode === null; i++) {
      const stored = (await Promise.all(ctUids.map((u) => rtstructInstances(w, u)))).flat();
      if (stored.length > 0) {
        child.kill('SIGKILL');
        doneAtKill = await count(w, 'DiagnosticReport');
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await child.output;
    assert.ok(doneAtKill >= 0 && doneAtKill < ctUids.length, `killed mid-run (${doneAtKill} of ${ctUids.length} CTs had reports)`);

    const again = await spawnDfa(['run', '--json', GOAL], w.env()).output;
    assert.equal(again.code, 1, again.stderr.slice(-2000));
    await checkWorld(w, JSON.parse(again.stdout) as RunJson);
    assert.equal(await count(w, 'DiagnosticReport'), ctUids.length);
    assert.equal(await count(w, 'Provenance'), ctUids.length);
  } finally {
    await w.stop();
  }
});
