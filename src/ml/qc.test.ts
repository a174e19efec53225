import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticChest } from '../../test/support/synthetic-chest.ts';
import type { LabelMap, Volume } from '../core/volume.ts';
import { createClassicalLungSegmenter } from './classical/lung-segmenter.ts';
import { shippedClassicalManifest } from './classical/manifest.ts';
import { dice, jaccard, labelHistogram, overlap, volumeMl, volumesMl } from './metrics.ts';
import { qcFailures, qcLungs } from './qc.ts';

const manifest = shippedClassicalManifest();

/** A label map with two boxes of lung (values 1, 2) on a 4 mm grid. */
function boxes(opts: { leftMm?: number; rightMm?: number; split?: boolean; touchBorder?: boolean } = {}): LabelMap {
  const dims = [80, 64, 60] as const;
  const spacing = [4, 4, 4] as const;
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  // a box of n voxels per edge holds (4n)^3 / 1000 mL
  const paint = (i0: number, edge: number, value: number, gapAt?: number) => {
    for (let k = 10; k < 10 + edge; k++) {
      for (let j = 10; j < 10 + edge; j++) {
        for (let i = i0; i < i0 + edge; i++) {
          if (gapAt !== undefined && ((k >= gapAt && k < gapAt + 2) || (k >= gapAt + 8 && k < gapAt + 10))) continue; // three pieces
          data[i + j * dims[0] + k * dims[0] * dims[1]] = value;
        }
      }
    }
  };
  const edgeFor = (ml: number) => Math.round(Math.cbrt(ml * 1000) / 4);
  paint(opts.touchBorder ? 0 : 44, edgeFor(opts.leftMm ?? 2000), 1, opts.split ? 20 : undefined);
  paint(6, edgeFor(opts.rightMm ?? 2000), 2);
  return { dims, spacing, origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], data };
}

/** A CT for those labels: aerated lung (−850 HU) where labelled, soft tissue (40 HU) elsewhere; age unknown. */
function ctOf(m: LabelMap, meta: Partial<Volume['meta']> = {}): Volume {
  const data = new Int16Array(m.data.length);
  for (let p = 0; p < data.length; p++) data[p] = m.data[p] ? -850 : 40;
  return { dims: m.dims, spacing: m.spacing, origin: m.origin, direction: m.direction, data, meta: { ...meta } as Volume['meta'] };
}
const qcOf = (m: LabelMap, opts?: Parameters<typeof qcLungs>[3]) => qcLungs(ctOf(m), m, manifest, opts);

test('metrics: dice, jaccard, overlap, volumes by ROI name', () => {
  const a = Uint8Array.from([0, 1, 1, 1, 2, 2]);
  const b = Uint8Array.from([0, 1, 1, 0, 2, 0]);
  assert.deepEqual(overlap(a, b, 1), { a: 3, b: 2, both: 2 });
  assert.equal(dice(a, b, 1), 0.8);
  assert.equal(dice(a, b, 2), 2 / 3);
  assert.equal(dice(a, b), 2 * 3 / (5 + 3));
  assert.equal(dice(a, Uint8Array.from([0, 5, 5, 5, 0, 0]), 1, 5), 1);
  assert.equal(jaccard(a, b, 1), 2 / 3);
  assert.equal(dice(new Uint8Array(4), new Uint8Array(4), 1), 1, 'both empty');
  assert.throws(() => dice(a, new Uint8Array(2)));
  const m = boxes();
  const v = volumesMl(m, manifest);
  assert.deepEqual(Object.keys(v).sort(), ['Lung_L', 'Lung_R']);
  assert.ok(Math.abs(v.Lung_L - 1906.624) < 1e-6, String(v.Lung_L)); // 31^3 voxels of 64 mm³
  assert.equal(volumeMl(m.data, m, 1), v.Lung_L);
});

test('plausible lungs pass every check', () => {
  const qc = qcOf(boxes());
  assert.ok(qc.ok, qcFailures(qc).join('; '));
  assert.deepEqual(
    qc.checks.map((c) => c.name),
    ['volume:Lung_L', 'volume:Lung_R', 'volume:total', 'ratio:Lung_L/Lung_R', 'components:Lung_L', 'border:Lung_L', 'components:Lung_R', 'border:Lung_R', 'fat:Lung_L', 'fat:Lung_R', 'missed:Lung_L', 'missed:Lung_R'],
  );
  assert.deepEqual(qc.coverage, { Lung_L: 'complete', Lung_R: 'complete' });
  assert.deepEqual(qc.limits, { population: 'adult', basis: 'age unknown (no PatientBirthDate/StudyDate): adult limits' });
});

test('each failure is reported as a value naming the check', () => {
  const cases: [Parameters<typeof boxes>[0], string][] = [
    [{ leftMm: 200, rightMm: 200 }, 'volume:Lung_L'],
    [{ leftMm: 200, rightMm: 2000 }, 'ratio:Lung_L/Lung_R'],
    [{ leftMm: 4900, rightMm: 4900 }, 'volume:total'],
    [{ split: true }, 'components:Lung_L'],
    [{ touchBorder: true }, 'border:Lung_L'],
  ];
  for (const [opts, name] of cases) {
    const qc = qcOf(boxes(opts));
    assert.equal(qc.ok, false, JSON.stringify(opts));
    const c = qc.checks.find((x) => x.name === name);
    assert.ok(c && !c.ok, `${name} should fail for ${JSON.stringify(opts)}: ${qcFailures(qc).join('; ')}`);
    assert.ok(qcFailures(qc).some((f) => f.startsWith(name)));
  }
});

test('an empty segmentation is "no lung in the field of view": QC fails with noLung, without throwing', () => {
  const m = boxes();
  const qc = qcOf({ ...m, data: new Uint8Array(m.data.length) });
  assert.equal(qc.ok, false);
  assert.equal(qc.noLung, true);
  assert.deepEqual(qcFailures(qc), ['lung-present=0 (expected ≥ 5 mL (no lung in the field of view))']);
  // one lung missing is not "no lung": the volume check fails
  const oneSided = qcOf({ ...m, data: m.data.map((v) => (v === 1 ? 0 : v)) });
  assert.equal(oneSided.noLung, undefined);
  assert.equal(oneSided.checks.find((c) => c.name === 'components:Lung_L')?.value, 0);
  assert.equal(oneSided.checks.find((c) => c.name === 'ratio:Lung_L/Lung_R')?.value, 0);
});

test('limits can be overridden (e.g. paediatric ranges)', () => {
  const qc = qcOf(boxes({ leftMm: 300, rightMm: 300 }), { limits: { lungMl: [100, 3000], totalMl: [200, 6000] } });
  assert.ok(qc.ok, qcFailures(qc).join('; '));
});

test('QC of the classical result on the synthetic chest passes', async () => {
  const { volume } = syntheticChest();
  const labels = await createClassicalLungSegmenter().segment(volume);
  const qc = qcLungs(volume, labels, manifest);
  assert.ok(qc.ok, qcFailures(qc).join('; '));
});

test('labelHistogram: the same counts as one voxel at a time, at every alignment and length', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (const len of [0, 1, 3, 4, 5, 1023, 4096, 10_001]) {
    const buf = new Uint8Array(len + 3);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() < 0.7 ? 0 : Math.floor(rnd() * 256);
    for (const off of [0, 1, 2, 3]) {
      const d = buf.subarray(off, off + len);
      const want = new Float64Array(256);
      for (const v of d) want[v]++;
      assert.deepEqual(labelHistogram(d), want, `length ${len}, offset ${off}`);
    }
  }
});

test('a segmenter that counts fat as lung fails the fat check, though its cut lungs pass every volume check', async () => {
  // The classical model thresholded at 0 HU instead of its lung threshold: fat (−190…−30 HU) becomes
  // lung, the overgrown lungs reach the scan's ends (partial coverage: no volume range applies).
  const { generateChestPhantom } = await import('../dicom/phantom/generate.ts');
  const p = generateChestPhantom({ seed: 101, size: 128, slices: 60 });
  const overgrown = structuredClone(shippedClassicalManifest());
  (overgrown.params as Record<string, number>).lungHu = 0;
  const qc = qcLungs(p.volume, await createClassicalLungSegmenter(overgrown).segment(p.volume), overgrown);
  const failed = qc.checks.filter((c) => !c.ok).map((c) => c.name);
  assert.deepEqual(failed, ['fat:Lung_L', 'fat:Lung_R'], qcFailures(qc).join('; '));
  const good = qcLungs(p.volume, await createClassicalLungSegmenter().segment(p.volume), manifest);
  assert.ok(good.ok, qcFailures(good).join('; '));
  for (const c of good.checks.filter((c) => c.name.startsWith('fat:'))) assert.equal(c.value, 0);
});
