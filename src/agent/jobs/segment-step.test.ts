/**
 * The segment step's policy on the real embedded database and job graph, with fakes of the ports:
 * a named segmenter never falls back; an automatic one does and says why; no lung in view is
 * skipped with its reason (Task rejected, nothing written); coverage reaches jobs[] and the audit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditStore } from '../../storage/audit.ts';
import { openDatabase, type Database } from '../../storage/db.ts';
import { FakeWorld, keyOf, lungPlan, type FakeOptions } from '../../../test/support/job-fakes.ts';
import { runPlan } from '../runner.ts';

let root: string;
let db: Database;
let audit: AuditStore;
const fast = { retry: { initialIntervalMs: 10, maxIntervalMs: 40, maxAttempts: 3 }, queue: { pollingIntervalSeconds: 0.5 }, pollMs: 100 };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dfa-segstep-'));
  db = await openDatabase({ DFA_DATA_DIR: join(root, 'data') });
  audit = new AuditStore(db.pool);
});
after(async () => {
  await db.close();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const uid = (name: string) => `1.2.826.0.1.3680043.9.7778.${name}`;
async function world(study: string, o: Omit<FakeOptions, 'root' | 'studies'>): Promise<FakeWorld> {
  return new FakeWorld({ ...o, studies: [{ uid: study, modality: 'CT', patientId: `P${study}` }], root: await mkdtemp(join(root, `w${++n}-`)) });
}
const segmentCalls = (w: FakeWorld) => w.state.calls.filter((c) => c.startsWith('segment '));

test('no lung in the field of view: skipped with that reason, Task rejected, nothing stored, study untouched', async () => {
  const s = uid('1');
  const w = await world(s, { noLung: ['classical', 'onnx'] });
  const plan = lungPlan();
  const r = await runPlan(plan, db, w.deps(), fast);
  const [j] = r.jobs;
  assert.equal(j.status, 'skipped');
  assert.equal(j.reason, 'no lung in the field of view');
  assert.deepEqual(r.summary, { succeeded: 0, failed: 0, skipped: 1, review: 0 });
  assert.equal(segmentCalls(w).length, 2, 'the fallback looked too');
  assert.deepEqual(Object.keys(w.state.stored), []);
  assert.deepEqual(w.state.reports, {});
  assert.equal(w.state.imagingStudyStatus[s], 'registered');
  const [task] = Object.values(w.state.tasks);
  assert.deepEqual(task.history, ['in-progress', 'rejected']);
  assert.equal(task.reason, 'no lung in the field of view');
  assert.equal((await audit.getJob(keyOf(plan, s)))?.status, 'skipped');
});

test('a segmenter named by the goal that fails QC fails the job with the reason; the fallback is never run', async () => {
  const s = uid('2');
  const w = await world(s, { qcFails: ['classical'] });
  const plan = lungPlan({ pipeline: { task: 'segmentation', structures: ['Lung_L', 'Lung_R'], segmenter: 'classical', fallbackSegmenter: 'onnx', segmenterNamed: true }, review: 'never' });
  const [j] = (await runPlan(plan, db, w.deps(), fast)).jobs;
  assert.equal(j.status, 'failed');
  assert.match(j.reason ?? '', /^QC failed for classical 1\.0\.0 \(lung volume=12 .*\); the goal named this segmenter, so no other model was tried$/);
  assert.deepEqual(segmentCalls(w), [`segment ${s} classical`]);
  assert.deepEqual(Object.keys(w.state.stored), []);
  assert.equal(Object.values(w.state.tasks)[0].status, 'failed');

  // With the default review policy the named segmenter's contours wait for a person instead — still no fallback.
  const s2 = uid('2b');
  const w2 = await world(s2, { qcFails: ['classical'] });
  const [j2] = (await runPlan({ ...plan, review: 'on-qc-fail' }, db, w2.deps(), fast)).jobs;
  assert.equal(j2.status, 'review');
  assert.deepEqual(segmentCalls(w2), [`segment ${s2} classical`]);
  assert.deepEqual(Object.keys(w2.state.stored), []);
});

test('automatic choice: the fallback produces the contours and the result says which model and why; coverage reported', async () => {
  const s = uid('3');
  const w = await world(s, { qcFails: ['classical'], coverage: { Lung_L: 'complete', Lung_R: 'partial' } });
  const plan = lungPlan();
  const [j] = (await runPlan(plan, db, w.deps(), fast)).jobs;
  assert.equal(j.status, 'succeeded', j.reason);
  assert.deepEqual(j.model, { name: 'onnx', version: '1.0.0' });
  assert.equal(j.fallbackUsed, true);
  assert.match(j.fallbackReason ?? '', /^QC failed for classical 1\.0\.0 \(lung volume=12/);
  assert.deepEqual(j.coverage, { Lung_L: 'complete', Lung_R: 'partial' });
  assert.equal(j.qcLimits, 'age unknown: adult limits');
  const events = await audit.events(keyOf(plan, s));
  assert.ok(events.some((e) => e.kind === 'fallback' && /trying onnx/.test(e.message ?? '')));
  assert.ok(events.some((e) => e.kind === 'qc' && /coverage: Lung_L complete, Lung_R partial/.test(e.message ?? '')));
});

test('a segmenter with no fallback that finds lung but fails QC is a failure, not a skip', async () => {
  const s = uid('4');
  const w = await world(s, { qcFails: ['classical'], noLung: ['onnx'] });
  const [j] = (await runPlan(lungPlan({ review: 'never' }), db, w.deps(), fast)).jobs;
  assert.equal(j.status, 'failed');
  assert.match(j.reason ?? '', /QC failed for classical .*; fallback onnx 1\.0\.0 also failed: it found no lung/);
});
