import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport, ImagingStudy, Provenance, Task } from '@medplum/fhirtypes';
import { PNG } from 'pngjs';
import { GOAL, rtstructInstances, spawnDfa, startWorld } from './world.ts';

/**
 * Issue 12 "review flow end to end", against a real Orthanc and the FHIR server, with the real CLI in
 * separate processes: `dfa run` ends while the jobs wait at the review gate (a restart of the agent:
 * the next process only has the database and the checkpoints), then `dfa review approve|reject` in new
 * processes resume them. Approve → RTSTRUCT in Orthanc, Task completed, Provenance names the reviewer,
 * the report carries the key image. Reject → nothing in Orthanc, Task failed with the comment.
 */
interface RunJson {
  jobs: { studyInstanceUid: string; status: string; reason?: string; step?: string; previews?: { name: string; key: string }[] }[];
  summary: { succeeded: number; failed: number; skipped: number; review: number };
}

test('review gate end to end: held before the PACS across a restart, approved one stored with the reviewer, rejected one not', async () => {
  const w = await startWorld({ ctStudies: 2 });
  try {
    const cts = w.seeded.filter((s) => s.kind === 'ct');
    assert.equal(cts.length, 2);
    const env = w.env();
    const run = await spawnDfa(['run', '--json', `${GOAL} for review`], env).output;
    const r = JSON.parse(run.stdout) as RunJson;
    // The world's worklist also holds a CT with missing slices (fails) and an MR (skipped): exit 1, as a
    // failure outranks jobs waiting for review (exit 3 when nothing failed: src/cli/verbs/run.ts).
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(r.summary, { succeeded: 0, failed: 1, skipped: 1, review: 2 });
    for (const ct of cts) {
      const j = r.jobs.find((x) => x.studyInstanceUid === ct.studyInstanceUid)!;
      assert.equal(j.status, 'review', JSON.stringify(j));
      assert.equal(j.reason, 'review required by the plan');
      assert.ok((j.previews ?? []).some((p) => p.name === 'coronal-lung'));
      assert.equal((await rtstructInstances(w, ct.studyInstanceUid)).length, 0, 'nothing in the PACS before review');
      const [task] = await w.fhir.search<Task>('Task', { focus: ct.imagingStudy });
      assert.equal(task.status, 'on-hold');
      assert.equal(task.businessStatus?.text, 'awaiting contour review');
      const study = await w.fhir.read<ImagingStudy>('ImagingStudy', ct.imagingStudy.replace('ImagingStudy/', ''));
      assert.equal(study.status, 'registered');
    }

    const list = await spawnDfa(['review', 'list'], env).output;
    assert.equal(list.code, 0);
    for (const ct of cts) assert.match(list.stdout, new RegExp(ct.studyInstanceUid.replace(/\./g, '\\.')));

    // A later process approves the first study: the job resumes at store.
    const [a, b] = cts;
    const ok = await spawnDfa(['review', 'approve', a.studyInstanceUid, '--reviewer', 'Dr Review', '--comment', 'checked slice by slice'], env).output;
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /succeeded/);
    assert.equal((await rtstructInstances(w, a.studyInstanceUid)).length, 1);
    const [taskA] = await w.fhir.search<Task>('Task', { focus: a.imagingStudy });
    assert.equal(taskA.status, 'completed');
    const studyA = await w.fhir.read<ImagingStudy>('ImagingStudy', a.imagingStudy.replace('ImagingStudy/', ''));
    assert.equal(studyA.status, 'available');
    const reports = (await w.fhir.search<DiagnosticReport>('DiagnosticReport', { _count: '200' })).filter((r) => r.imagingStudy?.some((x) => x.reference === a.imagingStudy));
    assert.equal(reports.length, 1);
    const form = reports[0].presentedForm?.[0];
    assert.equal(form?.contentType, 'image/png');
    const key = PNG.sync.read(Buffer.from(form?.data ?? '', 'base64'));
    assert.ok(key.width > 100 && key.height > 100, 'the key image decodes');
    assert.match(reports[0].conclusion ?? '', /approved by Dr Review/);
    const provs = (await w.fhir.search<Provenance>('Provenance', { _count: '200' })).filter((p) => p.target.some((t) => t.reference?.startsWith(`DiagnosticReport/${reports[0].id}`)));
    const verifier = provs.flatMap((p) => p.agent ?? []).find((ag) => ag.type?.coding?.some((c) => c.code === 'verifier'));
    assert.equal(verifier?.who?.display, 'Dr Review');

    // The second is rejected: nothing stored, the Task says why.
    const no = await spawnDfa(['review', 'reject', b.studyInstanceUid, '--reviewer', 'Dr Review', '--comment', 'left base leaks into the spleen'], env).output;
    assert.equal(no.code, 0, `${no.stdout}\n${no.stderr}`);
    assert.match(no.stdout, /failed — contours rejected by Dr Review: left base leaks into the spleen/);
    assert.equal((await rtstructInstances(w, b.studyInstanceUid)).length, 0);
    const [taskB] = await w.fhir.search<Task>('Task', { focus: b.imagingStudy });
    assert.equal(taskB.status, 'failed');
    assert.match(taskB.statusReason?.text ?? '', /rejected by Dr Review: left base leaks into the spleen/);

    // Decided jobs are not waiting any more.
    const again = await spawnDfa(['review', 'approve', b.studyInstanceUid], env).output;
    assert.equal(again.code, 2);
    assert.match(again.stderr, /JOB_NOT_FOUND|REVIEW_NOT_PENDING/);
  } finally {
    await w.stop();
  }
});
