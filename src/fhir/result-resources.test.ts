import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCT_ANATOMICAL_STRUCTURE } from '../core/model.ts';
import type { JobResults, WorkItem } from '../core/ports.ts';
import { diagnosticReport, volumeObservations } from './result-resources.ts';

const item = { studyInstanceUid: '1.2.3', imagingStudy: 'ImagingStudy/s1', patient: 'Patient/p1' } as WorkItem;
const results = (coverage?: JobResults['coverage']): JobResults => ({
  jobKey: 'k:1.2.3',
  sourceSeriesInstanceUid: '1.2.3.4',
  volumesMl: { Lung_L: 41.26, Lung_R: 2200 },
  labels: [
    { value: 1, roiName: 'Lung_L', color: [0, 0, 0], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
    { value: 2, roiName: 'Lung_R', color: [0, 0, 0], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  ],
  model: { name: 'classical-lung', version: '1.0.0' },
  ...(coverage ? { coverage } : {}),
});

test('a lung cut by the scan: its Observation and the total say partial coverage, not the lung volume', () => {
  const obs = volumeObservations(item, results({ Lung_L: 'partial', Lung_R: 'complete' }), { reference: 'Device/d' }, '2026-01-01T00:00:00Z');
  const [l, r, total] = obs;
  assert.equal(l.code.text, 'Lung_L volume within the scanned field of view (partial coverage)');
  assert.match(l.interpretation?.[0].text ?? '', /^partial coverage: .*not the whole structure$/);
  assert.match(l.note?.[0].text ?? '', /partial coverage/);
  assert.equal(l.valueQuantity?.value, 41.3);
  assert.equal(r.code.text, 'Lung_R volume');
  assert.equal(r.interpretation, undefined);
  assert.match(total.code.text ?? '', /partial coverage/);
  const report = diagnosticReport(item, results({ Lung_L: 'partial', Lung_R: 'complete' }), [], '2026-01-01T00:00:00Z');
  assert.match(report.conclusion ?? '', /Left lung \(Lung_L\): 41\.3 mL within the field of view only \(partial coverage, not the lung's volume\); Right lung \(Lung_R\): 2200\.0 mL\./);
});

test('complete lungs (or no coverage known): plain volume Observations', () => {
  for (const cov of [undefined, { Lung_L: 'complete', Lung_R: 'complete' } as const]) {
    const obs = volumeObservations(item, results(cov), { reference: 'Device/d' }, '2026-01-01T00:00:00Z');
    assert.deepEqual(obs.map((o) => o.code.text), ['Lung_L volume', 'Lung_R volume', 'Total volume (Lung_L + Lung_R)']);
    assert.ok(obs.every((o) => o.interpretation === undefined && o.note === undefined));
  }
});
