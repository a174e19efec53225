import { test } from 'node:test';
import assert from 'node:assert/strict';
import { voxelVolumeMl } from '../../core/volume.ts';
import { generateChestPhantom, PHANTOM_SCENARIOS, phantomScenario, TRUTH_STRUCTURES } from './index.ts';

/** The named trap / pathology / coverage phantoms carry the truth their names promise. */
const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

test('default phantom unchanged: only the standard structures, no trap tissue', () => {
  const p = generateChestPhantom({ size: 64, slices: 30 });
  assert.deepEqual(Object.keys(p.truth).sort(), Object.keys(TRUTH_STRUCTURES).sort());
  assert.ok(p.tissues.every((t) => t <= 20));
});

test('every scenario: its lungs are in view (or not), traps hold gas, names are unique', () => {
  assert.equal(new Set(PHANTOM_SCENARIOS.map((s) => s.name)).size, PHANTOM_SCENARIOS.length);
  for (const s of PHANTOM_SCENARIOS) {
    const p = generateChestPhantom(s.options);
    const ml = voxelVolumeMl(p.volume);
    for (const lung of ['Lung_L', 'Lung_R'] as const) {
      const v = count(p.truth[lung]) * ml;
      if (s.lungs.includes(lung)) assert.ok(v > 100, `${s.name}: ${lung} ${v} mL`);
      else assert.equal(v, 0, `${s.name}: ${lung} should be out of view`);
    }
    if (s.kind === 'trap') assert.ok(count(p.truth.GasPockets) * ml > 50, `${s.name}: gas`);
    // the scan's ends cut the lungs exactly when the scenario says so
    const [nx, ny, nz] = p.volume.dims;
    const sxy = nx * ny;
    const lungs = (k: number) => {
      let n = 0;
      for (let q = k * sxy; q < (k + 1) * sxy; q++) n += p.truth.Lung_L[q] + p.truth.Lung_R[q];
      return n;
    };
    assert.equal(lungs(0) > 0 || lungs(nz - 1) > 0, s.partial, `${s.name}: partial coverage`);
  }
});

test('pathology truth: consolidation is about a third of the right lung and inside it; the effusion is outside both lungs', () => {
  const c = generateChestPhantom(phantomScenario('consolidation')!.options);
  const path = c.truth.Pathology;
  let inR = 0;
  for (let q = 0; q < path.length; q++) if (path[q] && c.truth.Lung_R[q]) inR++;
  assert.equal(inR, count(path));
  const share = inR / count(c.truth.Lung_R);
  assert.ok(share > 0.25 && share < 0.45, `consolidated share ${share}`);
  // air bronchograms: air inside the consolidated lobe
  let air = 0;
  for (let q = 0; q < path.length; q++) if (path[q] && c.volume.data[q] < -800) air++;
  assert.ok(air > 100, `${air} bronchogram voxels`);
  const e = generateChestPhantom(phantomScenario('effusion')!.options);
  const eff = e.truth.Effusion;
  assert.ok(count(eff) * voxelVolumeMl(e.volume) > 100);
  for (let q = 0; q < eff.length; q++) if (eff[q]) assert.ok(!e.truth.Lung_R[q] && !e.truth.Lung_L[q]);
});

test('scenario options are validated', () => {
  assert.throws(() => generateChestPhantom({ size: 32, slices: 8, traps: ['nope' as never] }), /trap 'nope'/);
  assert.throws(() => generateChestPhantom({ size: 32, slices: 8, pathology: ['flu' as never] }), /pathology 'flu'/);
});

test('pathology truth: the left lower lobe is inside the left lung; the collapsed right lower lobe is a medial wedge on the diaphragm', () => {
  const l = generateChestPhantom(phantomScenario('consolidation-left')!.options);
  let inL = 0;
  for (let q = 0; q < l.truth.Pathology.length; q++) if (l.truth.Pathology[q] && l.truth.Lung_L[q]) inL++;
  assert.equal(inL, count(l.truth.Pathology));
  const shareL = inL / count(l.truth.Lung_L);
  assert.ok(shareL > 0.25 && shareL < 0.5, `consolidated share ${shareL}`);

  const a = generateChestPhantom(phantomScenario('atelectasis')!.options);
  const path = a.truth.Pathology;
  const [nx, ny] = a.volume.dims;
  let n = 0;
  let medial = 0;
  let lowest = Infinity;
  let lungLowest = Infinity;
  for (let q = 0; q < path.length; q++) {
    if (a.truth.Lung_R[q]) lungLowest = Math.min(lungLowest, Math.floor(q / (nx * ny)));
    if (!path[q]) continue;
    assert.equal(a.truth.Lung_R[q], 1);
    n++;
    const i = q % nx;
    // LPS x of the voxel (HFS rows run along +x): medial half of the right lung is x > -83 mm
    if (a.volume.origin[0] + i * a.volume.spacing[0] > -83) medial++;
    lowest = Math.min(lowest, Math.floor(q / (nx * ny)));
  }
  const share = n / count(a.truth.Lung_R);
  // large enough that leaving it out fails the Dice gate (≥ 0.95)
  assert.ok(share > 0.1 && share < 0.2, `collapsed share ${share}`);
  assert.ok(medial > 0.6 * n, `${medial} of ${n} voxels in the medial half`);
  assert.ok(lowest <= lungLowest + 2, 'the wedge rests on the diaphragm');
});
