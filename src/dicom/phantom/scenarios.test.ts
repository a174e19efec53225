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
