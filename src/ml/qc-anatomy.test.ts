import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consolidatedChest, cropSlices, effusionChest } from '../../test/support/pathology-chest.ts';
import { syntheticChest } from '../../test/support/synthetic-chest.ts';
import type { LabelMap, Volume } from '../core/volume.ts';
import { voxelVolumeMl } from '../core/volume.ts';
import { shippedClassicalManifest } from './classical/manifest.ts';
import { qcFailures, qcLungs } from './qc.ts';
import { LUNG_QC_LIMITS, patientAgeYears, qcLimitsFor } from './qc-limits.ts';

/**
 * QC on the CT: what a segmenter misses (consolidation left out) fails; what is not lung
 * (effusion) does not; a lung cut by the field of view is partial and judged as such; limits by age.
 */
const manifest = shippedClassicalManifest();
const labelsOf = (v: Volume, data: Uint8Array): LabelMap => ({ dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data });
const count = (a: Uint8Array) => a.reduce((n, x) => n + (x ? 1 : 0), 0);

test('consolidation a segmenter leaves out fails QC as missed lung; the correct contour passes', () => {
  const c = consolidatedChest();
  const regionMl = count(c.region) * voxelVolumeMl(c.volume);
  const rightMl = c.truth.reduce((n, x) => n + (x === 2 ? 1 : 0), 0) * voxelVolumeMl(c.volume);
  assert.ok(regionMl > 0.2 * rightMl, `the consolidation is a large part of the lung (${regionMl} of ${rightMl} mL)`);

  const right = qcLungs(c.volume, labelsOf(c.volume, c.truth), manifest);
  assert.ok(right.ok, qcFailures(right).join('; '));

  // A segmenter that keeps only aerated lung: consolidated voxels unlabelled.
  const blind = c.truth.map((v, p) => (c.region[p] ? 0 : v));
  const qc = qcLungs(c.volume, labelsOf(c.volume, blind), manifest);
  assert.equal(qc.ok, false);
  const failed = qcFailures(qc);
  assert.equal(failed.length, 1, failed.join('; '));
  assert.match(failed[0], /^missed:Lung_R=\d+(\.\d)? \(expected .*consolidation/);
  const missed = Number(qc.checks.find((x) => x.name === 'missed:Lung_R')!.value);
  assert.ok(Math.abs(missed - regionMl) < 0.15 * regionMl, `missed ${missed} mL ≈ painted ${regionMl} mL`);
  assert.equal(qc.checks.find((x) => x.name === 'missed:Lung_L')!.value, 0);
});

test('a pleural effusion outside a correct lung contour is not called missed lung', () => {
  const e = effusionChest();
  assert.ok(count(e.region) * voxelVolumeMl(e.volume) > 100, 'a sizeable effusion');
  const qc = qcLungs(e.volume, labelsOf(e.volume, e.truth), manifest);
  assert.ok(qc.ok, qcFailures(qc).join('; '));
  assert.equal(qc.checks.find((x) => x.name === 'missed:Lung_R')!.value, 0);
});

test('an enclosed fluid pocket behind the lung centre is read as effusion; enclosed tissue in front is not', () => {
  // The posterior half of the consolidation region, unlabelled and enclosed by lung: at 8 HU (fluid,
  // behind the lung's centre) it is read as effusion; at 45 HU (tissue) it is missed lung.
  const c = consolidatedChest();
  const back = c.region.map((r, p) => {
    const j = Math.floor((p % (c.volume.dims[0] * c.volume.dims[1])) / c.volume.dims[0]);
    return r && c.volume.origin[1] + j * c.volume.spacing[1] > 5 ? 1 : 0;
  });
  const fluid = Int16Array.from(c.volume.data, (hu, p) => (back[p] ? 8 : c.region[p] ? -850 : hu));
  const labels = c.truth.map((v, p) => (back[p] ? 0 : v));
  const qc = qcLungs({ ...c.volume, data: fluid }, labelsOf(c.volume, labels), manifest);
  assert.equal(qc.checks.find((x) => x.name === 'missed:Lung_R')!.value, 0, qcFailures(qc).join('; '));
  const tissue = Int16Array.from(fluid, (hu, p) => (back[p] ? 45 : hu));
  const qc2 = qcLungs({ ...c.volume, data: tissue }, labelsOf(c.volume, labels), manifest);
  assert.ok(Number(qc2.checks.find((x) => x.name === 'missed:Lung_R')!.value) > 50, qcFailures(qc2).join('; '));
});

test('partial coverage: a lung cut by the scan end is partial, only plausible-for-a-cut checks apply', () => {
  const { volume, truth } = syntheticChest();
  const nz = volume.dims[2];
  const full = qcLungs(volume, labelsOf(volume, truth), manifest);
  assert.ok(full.ok, qcFailures(full).join('; '));
  assert.deepEqual(full.coverage, { Lung_L: 'complete', Lung_R: 'complete' });

  // Only the lung bases in view (an abdominal scan): the lowest 16 slices of the chest.
  const base = cropSlices(volume, truth, 0, 16);
  const qc = qcLungs(base.volume, labelsOf(base.volume, base.labels), manifest);
  assert.deepEqual(qc.coverage, { Lung_L: 'partial', Lung_R: 'partial' });
  assert.ok(qc.ok, qcFailures(qc).join('; '));
  const vol = qc.checks.find((x) => x.name === 'volume:Lung_L')!;
  assert.ok(Number(vol.value) < LUNG_QC_LIMITS.adult.lungMl[0], 'smaller than any whole lung, still passes');
  assert.match(vol.expected, /partial coverage/);
  assert.ok(!qc.checks.some((x) => x.name === 'volume:total' || x.name.startsWith('ratio:')), 'no whole-lung total or ratio for cut lungs');
  assert.ok(!qc.checks.some((x) => x.name.startsWith('border:') && !x.ok));

  // A cut lung still cannot be larger than a whole one.
  const big = qcLungs(base.volume, labelsOf(base.volume, base.labels), manifest, { limits: { lungMl: [500, 100] } });
  assert.ok(qcFailures(big).some((f) => f.startsWith('volume:Lung_L')));

  // The apex cut off (scan starts below it) is partial too; the full scan's first slice has no lung.
  const top = cropSlices(volume, truth, 0, nz - 12);
  assert.deepEqual(qcLungs(top.volume, labelsOf(top.volume, top.labels), manifest).coverage, { Lung_L: 'partial', Lung_R: 'partial' });
});

test('no lung in the field of view: noLung, not a volume failure', () => {
  const { volume, truth } = syntheticChest();
  const below = cropSlices(volume, truth, 0, 4); // under the lung bases
  assert.equal(count(below.labels), 0);
  const qc = qcLungs(below.volume, labelsOf(below.volume, below.labels), manifest);
  assert.equal(qc.noLung, true);
  assert.equal(qc.ok, false);
});

test('limits by patient age from DICOM dates; unknown or anonymised age → adult limits, stated', () => {
  assert.equal(patientAgeYears({ patientBirthDate: '19600315', studyDate: '20260314' }), 65);
  assert.equal(patientAgeYears({ patientBirthDate: '19600315', studyDate: '20260315' }), 66);
  assert.equal(patientAgeYears({ patientBirthDate: '', studyDate: '20260315' }), undefined);
  assert.equal(patientAgeYears({ patientBirthDate: '2026', studyDate: '20260315' }), undefined);
  assert.deepEqual(
    [qcLimitsFor({ patientBirthDate: '20251001', studyDate: '20260301' }), qcLimitsFor({ patientBirthDate: '20200101', studyDate: '20260301' }), qcLimitsFor({ patientBirthDate: '20100101', studyDate: '20260301' }), qcLimitsFor({ patientBirthDate: '19500101', studyDate: '20260301' })].map((c) => c.population),
    ['infant', 'child', 'adolescent', 'adult'],
  );
  assert.match(qcLimitsFor({}).basis, /age unknown.*adult limits/);
  assert.match(qcLimitsFor({ patientBirthDate: '20060101', studyDate: '20060101' }).basis, /anonymised\?\): adult limits/);
  assert.match(qcLimitsFor({ patientBirthDate: '19500101', studyDate: '20260301' }).basis, /patient age 76 y/);

  // The same ~1 L lungs: fine for a 6-year-old or an adult, too large for an infant.
  const { volume, truth } = syntheticChest();
  const as = (birth: string) => qcLungs({ ...volume, meta: { ...volume.meta, patientBirthDate: birth, studyDate: '20260301' } }, labelsOf(volume, truth), manifest);
  assert.ok(as('20200101').ok);
  assert.equal(as('20200101').limits?.population, 'child');
  const infant = as('20251001');
  assert.equal(infant.limits?.population, 'infant');
  assert.ok(qcFailures(infant).some((f) => f.startsWith('volume:Lung_L')), qcFailures(infant).join('; '));
});
