/**
 * The job graph, queue and runner on the REAL embedded database (PGlite + pg-boss + the LangGraph
 * Postgres checkpointer), with in-memory fakes of the PACS / FHIR / ML ports (our own logic only).
 * One database for the file; each test uses its own study UIDs, so its jobs are its own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditStore } from '../storage/audit.ts';
import { openDatabase, type Database } from '../storage/db.ts';
import { FakeWorld, keyOf, lungPlan, type FakeOptions } from '../../test/support/job-fakes.ts';
import { dryRun, runPlan, type RunProgress } from './runner.ts';
import { runUntilSettled, submitReview } from './review.ts';
import { OutageGuard } from './jobs/outage.ts';
import { memoryLogger } from '../core/log.ts';

let root: string;
let db: Database;
let audit: AuditStore;
const fast = { retry: { initialIntervalMs: 10, maxIntervalMs: 40, maxAttempts: 3 }, queue: { pollingIntervalSeconds: 0.5 }, pollMs: 100 };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dfa-runner-'));
  db = await openDatabase({ DFA_DATA_DIR: join(root, 'data') });
  audit = new AuditStore(db.pool);
});
after(async () => {
  await db.close();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function world(o: Omit<FakeOptions, 'root'>): Promise<FakeWorld> {
  return new FakeWorld({ ...o, root: await mkdtemp(join(root, `w${++n}-`)) });
}
const uid = (name: string) => `1.2.826.0.1.3680043.9.7777.${name}`;

test('happy path: each CT study gets one RTSTRUCT in the PACS, a report, a completed Task and an audit row', async () => {
  const a = uid('1'), b = uid('2');
  const w = await world({ studies: [{ uid: a, modality: 'CT', patientId: 'P1' }, { uid: b, modality: 'CT', patientId: 'P2' }] });
  const plan = lungPlan();
  const progress: RunProgress[] = [];
  const r = await runPlan(plan, db, w.deps(), { ...fast, onProgress: (p) => progress.push(p) });
  assert.deepEqual(r.summary, { succeeded: 2, failed: 0, skipped: 0, review: 0 });
  for (const j of r.jobs) {
    assert.equal(j.status, 'succeeded');
    assert.ok(j.rtstruct?.sopInstanceUid.startsWith('2.25.'));
    if (!j.rtstruct) continue;
    assert.equal(w.state.stored[j.rtstruct.sopInstanceUid].count, 1);
    assert.equal(j.diagnosticReport, `DiagnosticReport/r-${j.studyInstanceUid}`);
    assert.deepEqual(j.volumesMl, { Lung_L: 2000, Lung_R: 2200 });
    assert.ok(j.timingsMs.retrieve >= 0 && j.timingsMs.segment >= 0 && j.timingsMs.store >= 0);
    assert.equal(w.state.imagingStudyStatus[j.studyInstanceUid], 'available');
    const row = await audit.getJob(keyOf(plan, j.studyInstanceUid));
    assert.equal(row?.status, 'succeeded');
    assert.deepEqual(row?.inputSeries, [`${j.studyInstanceUid}.1`]);
    assert.deepEqual(row?.outputSops, [j.rtstruct.sopInstanceUid]);
    assert.deepEqual(row?.model, { name: 'classical', version: '1.0.0' });
    assert.deepEqual(row?.fhirWritten.map((w) => w.reference), [j.task, j.diagnosticReport]);
  }
  assert.deepEqual(Object.values(w.state.tasks).map((t) => t.history), [['in-progress', 'completed'], ['in-progress', 'completed']]);
  assert.deepEqual(progress.filter((p) => p.status === 'succeeded').map((p) => p.studyInstanceUid).sort(), [a, b].sort(), 'progress reports each study as it ends');
});

test('a non-CT study is skipped before anything is written: no Task, FHIR and PACS untouched', async () => {
  const mr = uid('10'), ct = uid('11');
  const w = await world({ studies: [{ uid: mr, modality: 'MR', patientId: 'P1' }, { uid: ct, modality: 'CT', patientId: 'P1' }] });
  const r = await runPlan(lungPlan(), db, w.deps(), fast);
  const j = r.jobs.find((x) => x.studyInstanceUid === mr);
  assert.equal(j?.status, 'skipped');
  assert.match(j?.reason ?? '', /no CT series \(study has MR\)/);
  assert.equal(w.count(`retrieve ${mr}`), 0);
  assert.equal(w.count(`ensureTask ${mr}`), 0);
  assert.equal(w.state.imagingStudyStatus[mr], 'registered');
  assert.equal(r.jobs.find((x) => x.studyInstanceUid === ct)?.status, 'succeeded');
});

test('a broken series and a patient mismatch fail with step and reason; the other jobs go on', async () => {
  const broken = uid('20'), wrong = uid('21'), good = uid('22');
  const w = await world({
    studies: [
      { uid: broken, modality: 'CT', patientId: 'P1', broken: true },
      { uid: wrong, modality: 'CT', patientId: 'P2', dicomPatientId: 'SOMEONE-ELSE' },
      { uid: good, modality: 'CT', patientId: 'P3' },
    ],
  });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), fast);
  assert.deepEqual(r.summary, { succeeded: 1, failed: 2, skipped: 0, review: 0 });
  const jb = r.jobs.find((x) => x.studyInstanceUid === broken);
  assert.equal(jb?.step, 'volume');
  assert.match(jb?.reason ?? '', /DICOM_INCONSISTENT_SERIES/);
  const jw = r.jobs.find((x) => x.studyInstanceUid === wrong);
  assert.equal(jw?.step, 'checkPatient');
  assert.match(jw?.reason ?? '', /FHIR_PATIENT_MISMATCH/);
  for (const s of [broken, wrong]) {
    const t = w.state.tasks[keyOf(plan, s)];
    assert.equal(t.status, 'failed');
    assert.match(t.reason ?? '', /^(volume|checkPatient): /);
    assert.equal(w.state.imagingStudyStatus[s], 'registered');
    assert.equal(Object.values(w.state.stored).filter((o) => o.study === s).length, 0);
  }
  assert.equal(r.jobs.find((x) => x.studyInstanceUid === good)?.status, 'succeeded');
});

test('a transient fault is retried by the node policy, then the job succeeds', async () => {
  const s = uid('30');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }], faults: { retrieve: 2, recordResults: 1 } });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), fast);
  assert.equal(r.jobs[0].status, 'succeeded');
  assert.equal(w.count(`retrieve ${s}`), 3);
  assert.equal(w.count(`recordResults ${s}`), 2);
  assert.equal(w.state.reports[keyOf(plan, s)].creates, 1, 'the fault hit before the write');
  const ev = await audit.events(keyOf(plan, s));
  assert.equal(ev.filter((e) => e.kind === 'retry').length, 3);
});

test('a PACS that stops answering while the work is being found pauses the job instead of spending its retries (find calls the PACS too)', async () => {
  const s = uid('35');
  // Three faults of C-FIND: more than the retries (maxAttempts 3) can absorb unless the first is taken for an outage.
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }], faults: { findSeries: 3 } });
  let pacsUp = false;
  const outage = new OutageGuard(
    { pacs: async () => void (pacsUp || (await Promise.reject(new Error('connection refused')))), fhir: async () => undefined },
    { waitMs: 30_000, probeMs: 20, probeMaxMs: 40, probeTimeoutMs: 500, log: memoryLogger('error') },
  );
  const up = setTimeout(() => (pacsUp = true), 300);
  const progress: RunProgress[] = [];
  try {
    const r = await runPlan(lungPlan(), db, { ...w.deps(), outage }, { ...fast, onProgress: (p) => progress.push(p) });
    assert.equal(r.jobs[0].status, 'succeeded', JSON.stringify(r.jobs[0]));
    assert.ok(progress.some((p) => p.waiting?.startsWith('waiting for PACS since')), 'the job said it waits for the PACS');
  } finally {
    clearTimeout(up);
    outage.close();
  }
});

test('retries used up: the job fails at that step with the reason; Task failed', async () => {
  const s = uid('40');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }], faults: { store: 99 } });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), fast);
  assert.equal(r.jobs[0].status, 'failed');
  assert.equal(r.jobs[0].step, 'store');
  assert.match(r.jobs[0].reason ?? '', /DICOM_CONNECTION_FAILED.*retries used up/);
  assert.equal(w.state.tasks[keyOf(plan, s)].status, 'failed');
  assert.equal(w.state.imagingStudyStatus[s], 'registered');
});

test('QC failure: the fallback segmenter is used; when it fails too and review is never, the job fails and nothing is written', async () => {
  const a = uid('50');
  const w1 = await world({ studies: [{ uid: a, modality: 'CT', patientId: 'P1' }], qcFails: ['classical'] });
  const r1 = await runPlan(lungPlan(), db, w1.deps(), fast);
  assert.equal(r1.jobs[0].status, 'succeeded');
  assert.deepEqual(r1.jobs[0].model, { name: 'onnx', version: '1.0.0' });
  assert.equal(r1.jobs[0].fallbackUsed, true);

  const b = uid('51');
  const w2 = await world({ studies: [{ uid: b, modality: 'CT', patientId: 'P1' }], qcFails: ['classical', 'onnx'] });
  const r2 = await runPlan(lungPlan({ review: 'never' }), db, w2.deps(), fast);
  assert.equal(r2.jobs[0].status, 'failed');
  assert.equal(r2.jobs[0].step, 'segment');
  assert.match(r2.jobs[0].reason ?? '', /QC failed for classical 1\.0\.0 \(lung volume=12.*; fallback onnx 1\.0\.0 also failed QC \(lung volume=12/);
  assert.equal(Object.keys(w2.state.stored).length, 0);
});

test('a second run of the same goal adds nothing; rerun redoes it with the same UIDs', async () => {
  const s = uid('60');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }] });
  const plan = lungPlan({ selection: { status: 'any', modality: 'CT', studyInstanceUids: [s] } });
  const r1 = await runPlan(plan, db, w.deps(), fast);
  assert.equal(r1.jobs[0].status, 'succeeded');
  const r2 = await runPlan({ ...plan, goal: 'contour the lungs again, said differently' }, db, w.deps(), fast);
  assert.deepEqual(r2.summary, { succeeded: 0, failed: 0, skipped: 1, review: 0 });
  assert.equal(r2.jobs[0].reason, 'already done');
  assert.equal(w.count(`retrieve ${s}`), 1);
  assert.equal(w.state.reports[keyOf(plan, s)].creates, 1);
  assert.equal(Object.keys(w.state.tasks).length, 1);

  const r3 = await runPlan({ ...plan, rerun: true }, db, w.deps(), fast);
  assert.equal(r3.jobs[0].status, 'succeeded');
  const uidsOf = (x?: { seriesInstanceUid: string; sopInstanceUid: string }) => x && { series: x.seriesInstanceUid, sop: x.sopInstanceUid };
  assert.deepEqual(uidsOf(r3.jobs[0].rtstruct), uidsOf(r1.jobs[0].rtstruct), 'deterministic UIDs: the PACS object is replaced, not duplicated');
  assert.equal(Object.keys(w.state.stored).length, 1);
  assert.equal((await audit.getJob(keyOf(plan, s)))?.generation, 2);
  const listed = await audit.listJobs({ runId: r2.runId });
  assert.equal(listed[0].runAction, 'already-done');
});

test('jobs running side by side on the embedded database stay correct', async () => {
  const studies = Array.from({ length: 6 }, (_, i) => ({ uid: uid(`7${i}`), modality: 'CT' as const, patientId: `P${i}` }));
  // Each segmentation waits until three have started: the run can only finish if three jobs
  // really ran at the same time on the one embedded database.
  const w = await world({ studies, persist: true, barrier: 3 });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), { ...fast, workers: 3 });
  assert.deepEqual(r.summary, { succeeded: 6, failed: 0, skipped: 0, review: 0 });
  for (const s of studies) {
    assert.equal(w.count(`retrieve ${s.uid}`), 1);
    assert.equal(w.count(`store ${s.uid}`), 1);
    const row = await audit.getJob(keyOf(plan, s.uid));
    assert.equal(row?.status, 'succeeded');
    assert.equal(row?.attempts, 1);
    const steps = (await audit.events(keyOf(plan, s.uid))).filter((e) => e.kind === 'step').map((e) => e.step);
    assert.deepEqual(steps, ['find', 'ensureTask', 'retrieve', 'selectSeries', 'volume', 'checkPatient', 'segment', 'writeOutputs', 'renderPreviews', 'reviewGate', 'store', 'verifyStored', 'recordFhir', 'archive', 'finish']);
  }
  assert.equal(new Set(r.jobs.map((j) => j.rtstruct?.sopInstanceUid)).size, 6);
});

test('dry run lists the studies and changes nothing', async () => {
  const s = uid('80');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }] });
  const d = await dryRun(lungPlan(), w.deps());
  assert.deepEqual(d.studies.map((x) => x.studyInstanceUid), [s]);
  assert.equal(w.state.calls.length, 0);
});

test('review gate: contours that fail QC wait for a person (Task on-hold, nothing stored); approve stores them and names the reviewer', async () => {
  const s = uid('90');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }], qcFails: ['classical', 'onnx'] });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), fast);
  assert.deepEqual(r.summary, { succeeded: 0, failed: 0, skipped: 0, review: 1 });
  assert.equal(r.jobs[0].status, 'review');
  assert.match(r.jobs[0].reason ?? '', /QC failed/);
  assert.deepEqual(r.jobs[0].previews?.map((p) => p.name).sort(), ['axial-lung', 'axial-soft', 'coronal-lung', 'coronal-soft', 'key-coronal-lung', 'sagittal-lung', 'sagittal-soft']);
  const key = keyOf(plan, s);
  assert.equal(w.state.tasks[key].status, 'on-hold');
  assert.match(w.state.tasks[key].reason ?? '', /awaiting contour review/);
  assert.equal(Object.keys(w.state.stored).length, 0, 'nothing reaches the PACS before review');
  assert.equal(w.state.imagingStudyStatus[s], 'registered');
  assert.equal((await audit.listReviews()).filter((j) => j.jobKey === key).length, 1);

  // A second run of the same goal does not redo or skip it silently: it reports it waiting.
  const again = await runPlan(plan, db, w.deps(), fast);
  assert.equal(again.jobs[0].status, 'review');
  assert.equal(w.count(`retrieve ${s}`), 1);

  const decided = await submitReview(db, s, { decision: 'approve', reviewer: 'Dr Example', comment: 'fine' }, fast.queue);
  assert.equal(decided.status, 'queued');
  const end = await runUntilSettled(db, w.deps(), key, { workers: 1, retry: fast.retry, queue: fast.queue, pollMs: 100 });
  assert.equal(end.status, 'succeeded', end.reason ?? '');
  assert.equal(Object.keys(w.state.stored).length, 1);
  assert.equal(w.state.tasks[key].status, 'completed');
  assert.deepEqual(w.state.tasks[key].history.slice(-3), ['on-hold', 'in-progress', 'completed']);
  assert.equal(w.count(`retrieve ${s}`), 1, 'resumed at the gate: nothing before it runs again');
  assert.equal(w.count('segment'), 2, 'classical + fallback, once each');
  assert.deepEqual((end.result as { review?: unknown }).review, { decision: 'approve', reviewer: 'Dr Example', comment: 'fine' });
  assert.ok((await audit.events(key)).some((e) => e.kind === 'approved' && /Dr Example/.test(e.message ?? '')));
  await assert.rejects(submitReview(db, key, { decision: 'approve', reviewer: 'x' }, fast.queue), /not waiting for a review/);
});

test('review gate: a rejection ends the job with the reviewer\'s reason and writes nothing; policy always holds good contours too', async () => {
  const s = uid('91');
  const w = await world({ studies: [{ uid: s, modality: 'CT', patientId: 'P1' }] });
  const plan = lungPlan({ review: 'always' });
  const r = await runPlan(plan, db, w.deps(), fast);
  assert.equal(r.jobs[0].status, 'review');
  assert.equal(r.jobs[0].reason, 'review required by the plan');
  const key = keyOf(plan, s);
  await submitReview(db, key, { decision: 'reject', reviewer: 'Dr Example', comment: 'right base includes liver' }, fast.queue);
  const end = await runUntilSettled(db, w.deps(), key, { workers: 1, retry: fast.retry, queue: fast.queue, pollMs: 100 });
  assert.equal(end.status, 'failed');
  assert.equal(end.step, 'review');
  assert.equal(end.reason, 'contours rejected by Dr Example: right base includes liver');
  assert.equal(Object.keys(w.state.stored).length, 0);
  assert.equal(w.state.tasks[key].status, 'failed');
  assert.match(w.state.tasks[key].reason ?? '', /rejected by Dr Example/);
  assert.equal(w.state.imagingStudyStatus[s], 'registered');
});
