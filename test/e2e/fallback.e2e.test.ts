import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observation, Task } from '@medplum/fhirtypes';
import { REPO_ROOT } from '../support/testdata.ts';
import { rtstructInstances, spawnDfa, startWorld } from './world.ts';

/**
 * GATE (issue 9 "fallback end to end", issue 11 "no silent fallback"), against a real Orthanc and
 * the FHIR server, with the shipped U-Net as the fallback (installed as it ships: folder
 * models/lung-unet, manifest name lung-unet-2d — the mismatch that once broke every fallback).
 * The first segmenter is a real classical model configured to fail QC (lungHu 0 HU: fat counted as
 * lung). A goal that leaves the choice to the system falls back, and says so; a goal that names the
 * segmenter fails with the reason and writes nothing.
 */
interface RunJson {
  plan: { pipeline: { segmenter: string; fallbackSegmenter?: string; segmenterNamed: boolean } };
  jobs: {
    studyInstanceUid: string;
    status: string;
    reason?: string;
    model?: { name: string; version: string };
    fallbackUsed?: boolean;
    fallbackReason?: string;
    coverage?: Record<string, string>;
    qcLimits?: string;
    diagnosticReport?: string;
  }[];
}

test('a job whose first segmenter fails QC runs the shipped fallback end to end; a named segmenter never falls back', async () => {
  const w = await startWorld({ ctStudies: 1 });
  try {
    const models = join(w.root, 'models');
    await mkdir(join(models, 'overgrown'), { recursive: true });
    await cp(join(REPO_ROOT, 'models', 'lung-unet'), join(models, 'lung-unet'), { recursive: true });
    const m = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'classical-lung', 'manifest.json'), 'utf8')) as { name: string; params: Record<string, number> };
    m.name = 'lung-threshold-0';
    m.params.lungHu = 0;
    await writeFile(join(models, 'overgrown', 'manifest.json'), JSON.stringify(m));
    const ct = w.seeded.find((s) => s.kind === 'ct')!;
    // Review 'never': contours that fail QC fail the job (with the default, on-qc-fail, they would wait for a
    // person instead: test/e2e/review.e2e.test.ts).
    const env = w.env({ DFA_MODEL_DIR: models, DFA_REVIEW: 'never' });

    // 1. The goal names the method: the classical model runs, fails QC, the job fails — no U-Net.
    const named = await spawnDfa(['run', '--json', 'Analyze all pending CT scans for lung segmentation with the classical method and store RTSTRUCT in PACS'], env).output;
    const n = JSON.parse(named.stdout) as RunJson;
    assert.equal(n.plan.pipeline.segmenter, 'lung-threshold-0');
    assert.equal(n.plan.pipeline.segmenterNamed, true);
    assert.equal(n.plan.pipeline.fallbackSegmenter, undefined);
    const nj = n.jobs.find((j) => j.studyInstanceUid === ct.studyInstanceUid)!;
    assert.equal(nj.status, 'failed', JSON.stringify(nj));
    assert.match(nj.reason ?? '', /QC failed for lung-threshold-0 1\.0\.0 .*the goal named this segmenter, so no other model was tried/);
    assert.equal(nj.fallbackUsed, undefined);
    assert.equal((await rtstructInstances(w, ct.studyInstanceUid)).length, 0, 'nothing stored');
    const [task] = await w.fhir.search<Task>('Task', { focus: ct.imagingStudy });
    assert.equal(task.status, 'failed');
    assert.match(task.statusReason?.text ?? '', /named this segmenter/);
    assert.equal(named.code, 1);

    // 2. The choice is left to the system: the same model fails QC, the shipped U-Net takes over.
    const auto = await spawnDfa(['run', '--json', 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS'], env).output;
    const a = JSON.parse(auto.stdout) as RunJson;
    assert.equal(a.plan.pipeline.segmenterNamed, false);
    assert.equal(a.plan.pipeline.fallbackSegmenter, 'lung-unet-2d');
    const aj = a.jobs.find((j) => j.studyInstanceUid === ct.studyInstanceUid)!;
    assert.equal(aj.status, 'succeeded', `${aj.reason ?? ''} ${auto.stderr}`);
    assert.deepEqual(aj.model, { name: 'lung-unet-2d', version: '1.0.0' });
    assert.equal(aj.fallbackUsed, true);
    assert.match(aj.fallbackReason ?? '', /^QC failed for lung-threshold-0 1\.0\.0 \(/);
    assert.deepEqual(aj.coverage, { Lung_L: 'complete', Lung_R: 'complete' });
    assert.match(aj.qcLimits ?? '', /adult limits/);
    assert.equal((await rtstructInstances(w, ct.studyInstanceUid)).length, 1, 'the fallback contours are in Orthanc');
    const obs = await w.fhir.search<Observation>('Observation', {}); // one CT study in this world
    assert.ok(obs.length >= 3, 'volume Observations written');
    assert.ok(obs.every((o) => !o.interpretation), 'complete lungs: no partial-coverage interpretation');
  } finally {
    await w.stop();
  }
});
