import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../core/config.ts';
import { isDfaError } from '../../core/errors.ts';
import { planGoal } from './index.ts';
import { TEST_CAPS } from '../../../test/support/planner-capabilities.ts';
import type { Plan } from '../plan.ts';

// Thursday 2026-11-26: "since Monday" = 2026-11-23.
const now = new Date('2026-11-26T10:00:00Z');
const cfg = loadConfig({});
const plan = (goal: string) => planGoal(goal, cfg, { capabilities: TEST_CAPS, now, planner: 'rules' });

type Expect = {
  status?: Plan['selection']['status'];
  modality?: string;
  structures?: string[];
  rtstruct?: boolean;
  seg?: boolean;
  fhirReport?: boolean;
  store?: Plan['store']['method'];
  dateFrom?: string;
  dateTo?: string;
  patient?: string;
  uids?: string[];
  limit?: number;
  rerun?: boolean;
  segmenter?: string;
};

const LUNGS = ['Lung_L', 'Lung_R'];
const ACCEPTED: [string, Expect][] = [
  ['Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS', { status: 'registered', modality: 'CT', structures: LUNGS, rtstruct: true, seg: false, store: 'default', segmenter: 'classical-lung' }],
  ['contour the lungs on CT studies registered since Monday for patient 123, SEG only', { status: 'registered', dateFrom: '2026-11-23', patient: '123', rtstruct: false, seg: true }],
  ['re-run lung contouring for study 1.2.826.0.1.3680043.8.498.1', { status: 'any', rerun: true, uids: ['1.2.826.0.1.3680043.8.498.1'] }],
  ['Segment the lungs on all new chest CTs', { status: 'registered', modality: 'CT', rtstruct: true, seg: true }],
  ['auto-contour lungs for pending CT, write RTSTRUCT and SEG', { rtstruct: true, seg: true }],
  ['Please delineate both lungs in the CT scans that are waiting', { status: 'registered', structures: LUNGS }],
  ['lung segmentation on registered CT studies from yesterday', { dateFrom: '2026-11-25', dateTo: '2026-11-25' }],
  ['contour lungs on CT studies from today', { dateFrom: '2026-11-26', dateTo: '2026-11-26' }],
  ['segment lungs in CT exams of the last 7 days', { dateFrom: '2026-11-19' }],
  ['contour the lungs for studies since 2026-11-01', { dateFrom: '2026-11-01', modality: 'CT' }],
  ['lung contours for CT between 2026-10-01 and 2026-10-31', { dateFrom: '2026-10-01', dateTo: '2026-10-31' }],
  ['Contour the left lung only on pending CT scans', { structures: ['Lung_L'] }],
  ['segment the right lung on new CT studies, RTSTRUCT', { structures: ['Lung_R'], rtstruct: true, seg: false }],
  ['analyse pending CT scans for lung segmentation using the U-Net', { segmenter: 'lung-unet' }],
  ['segment lungs with the ONNX model on queued CT', { segmenter: 'lung-unet', status: 'registered' }],
  ['contour lungs on pending CT with the classical method', { segmenter: 'classical-lung' }],
  ['segment lungs with deep learning on new CTs and store via STOW-RS', { segmenter: 'lung-unet', store: 'stow-rs' }],
  ['contour lungs on pending CT and send the RTSTRUCT by C-STORE', { store: 'c-store', rtstruct: true, seg: false }],
  ['process the first 5 pending CT scans for lung contouring', { limit: 5 }],
  ['segment lungs on up to 10 CT studies', { limit: 10 }],
  ['contour lungs on 3 pending CT scans', { limit: 3 }],
  ['lung segmentation for MRN 998877 on CT', { patient: '998877' }],
  ['segment lungs for patient ID P-0042 on all pending CT scans', { patient: 'P-0042' }],
  ['contour the lungs on pending CT, no FHIR report', { fhirReport: false }],
  ['segment lungs on unprocessed CTs without a report', { fhirReport: false, status: 'registered' }],
  ['redo lung segmentation on already processed CT studies', { status: 'available', rerun: true }],
  ['re-process study 1.3.6.1.4.1.14519.5.2.1.7009.9004.1 for lung contours, SEG only', { rerun: true, seg: true, rtstruct: false, uids: ['1.3.6.1.4.1.14519.5.2.1.7009.9004.1'] }],
  ['lung contours for studies 1.2.3.4 and 1.2.3.5', { uids: ['1.2.3.4', '1.2.3.5'], status: 'any' }],
  ['Analyze pending computed tomography for pulmonary segmentation', { structures: LUNGS, modality: 'CT' }],
  ['contour lungs on CT scans registered this week', { dateFrom: '2026-11-23' }],
  ['segment lungs on CT studies from last week', { dateFrom: '2026-11-16', dateTo: '2026-11-22' }],
  ['lungs on pending CT → DICOM SEG', { seg: true, rtstruct: false }],
  ['generate structure sets of the lungs for new CT scans', { rtstruct: true, seg: false }],
  ['segment lungs on pending CTs since last Friday', { dateFrom: '2026-11-20' }],
  ['contour lungs, all outstanding CT exams, max 2', { limit: 2 }],
];

for (const [goal, want] of ACCEPTED) {
  test(`plans: ${goal}`, async () => {
    const p = await plan(goal);
    const got: Expect = {
      status: p.selection.status,
      modality: p.selection.modality,
      structures: p.pipeline.structures,
      rtstruct: p.outputs.rtstruct,
      seg: p.outputs.seg,
      fhirReport: p.outputs.fhirReport,
      store: p.store.method,
      dateFrom: p.selection.dateFrom,
      dateTo: p.selection.dateTo,
      patient: p.selection.patient,
      uids: p.selection.studyInstanceUids,
      limit: p.selection.limit,
      rerun: p.rerun,
      segmenter: p.pipeline.segmenter,
    };
    for (const k of Object.keys(want) as (keyof Expect)[]) assert.deepEqual(got[k], want[k], `${k} for "${goal}"`);
    assert.ok(p.understood.length >= 5, 'says what it understood');
  });
}

const REFUSED: [string, RegExp][] = [
  ['segment the liver on pending CT scans', /segments Liver/],
  ['contour the lungs on pending MR studies', /model for MR/],
  ['lung segmentation on new MRI and export NIfTI', /model for MR.*|NIfTI|nifti/i],
  ['contour the lungs on pending CT and export STL meshes', /output I can write \('stl'/],
  ['make me a coffee', /a task I can do/],
  ['segment pending CT scans', /which structure/],
  ['contour the kidneys and lungs on CT', /Kidney_L, Kidney_R/],
  ['segment lungs on PET scans', /model for PT/],
  ['contour lungs on CT and MR', /one modality/],
];
for (const [goal, why] of REFUSED) {
  test(`refuses: ${goal}`, async () => {
    await assert.rejects(plan(goal), (e) => {
      assert.ok(isDfaError(e, 'GOAL_UNSUPPORTED'), String(e));
      assert.match(e.message, why);
      assert.match(e.message, /missing:/);
      return true;
    });
  });
}

test('an ONNX goal with no ONNX model installed is refused, not silently run classically', async () => {
  const caps = { models: TEST_CAPS.models.filter((m) => m.kind === 'classical') };
  await assert.rejects(
    planGoal('segment lungs with the U-Net on pending CT', cfg, { capabilities: caps, now, planner: 'rules' }),
    (e) => isDfaError(e, 'MODEL_NOT_INSTALLED') && /model 'onnx', which is not installed/.test(e.message),
  );
});

test('the fallback segmenter is the other installed model covering the structures', async () => {
  const p = await plan('Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS');
  assert.equal(p.pipeline.fallbackSegmenter, 'lung-unet');
});

test('review policy: goal words set it, DFA_REVIEW is the default, contradictions are refused', async () => {
  const base = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
  assert.equal((await plan(base)).review, 'on-qc-fail');
  assert.equal((await planGoal(base, loadConfig({ DFA_REVIEW: 'always' }), { capabilities: TEST_CAPS, now, planner: 'rules' })).review, 'always');
  for (const g of [`${base} for review`, `${base}, hold for approval`, 'segment the lungs on pending CTs for clinician review']) assert.equal((await plan(g)).review, 'always', g);
  for (const g of [`${base} with no review`, `${base} without review`]) assert.equal((await plan(g)).review, 'never', g);
  assert.equal((await plan(`${base}, review only when QC fails`)).review, 'on-qc-fail');
  await assert.rejects(plan(`${base} for review and no review`), (e: unknown) => isDfaError(e, 'GOAL_UNSUPPORTED') && /one review policy/.test(e.message));
  const p = await plan(`${base} for review`);
  assert.ok(p.understood.some((u) => /^review: a person approves every contour/.test(u)));
});
