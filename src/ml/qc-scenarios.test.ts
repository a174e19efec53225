import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelMap, Volume } from '../core/volume.ts';
import { generateChestPhantom, PHANTOM_SCENARIOS } from '../dicom/phantom/index.ts';
import { shippedClassicalManifest } from './classical/manifest.ts';
import { qcFailures, qcLungs } from './qc.ts';

/**
 * QC against the phantom generator's own trap / pathology / coverage scenarios (issue 9 §3): the
 * ground truth passes; a segmenter that leaves the pathology out (a consolidated or collapsed lower
 * lobe) fails as missed lung, and a small pleural tumour left out is at least measured; a lung cut
 * by the scan's end is 'partial'; no lung at all is `noLung`.
 */
const manifest = shippedClassicalManifest();
const labelsOf = (v: Volume, truth: Readonly<Record<string, Uint8Array>>, drop?: Uint8Array): LabelMap => {
  const data = new Uint8Array(v.data.length);
  const L = truth.Lung_L;
  const R = truth.Lung_R;
  for (let p = 0; p < data.length; p++) if (!drop?.[p]) data[p] = L[p] ? 1 : R[p] ? 2 : 0;
  return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data };
};
const scenario = (name: string) => {
  const s = PHANTOM_SCENARIOS.find((x) => x.name === name);
  assert.ok(s, `scenario ${name}`);
  return { s, ph: generateChestPhantom(s.options) };
};

for (const s of PHANTOM_SCENARIOS) {
  test(`QC on the truth of '${s.name}': passes (or reports no lung); coverage ${s.partial ? 'partial' : 'complete'}`, () => {
    const ph = generateChestPhantom(s.options);
    const qc = qcLungs(ph.volume, labelsOf(ph.volume, ph.truth), manifest);
    if (s.lungs.length === 0) {
      assert.equal(qc.noLung, true);
      return;
    }
    assert.ok(qc.ok, `${s.name}: ${qcFailures(qc).join('; ')}`);
    const partial = Object.values(qc.coverage ?? {}).some((c) => c === 'partial');
    assert.equal(partial, s.partial, JSON.stringify(qc.coverage));
  });
}

for (const name of ['consolidation', 'consolidation-left', 'atelectasis', 'tumour-pleura']) {
  test(`QC catches a segmenter that leaves the ${name} out of the lung`, () => {
    const { ph } = scenario(name);
    const path = ph.truth.Pathology;
    assert.ok(path && path.some((x) => x !== 0), 'the scenario marks its pathology');
    const blind = qcLungs(ph.volume, labelsOf(ph.volume, ph.truth, path), manifest);
    if (name !== 'tumour-pleura') {
      const lung = name === 'consolidation-left' ? 'Lung_L' : 'Lung_R';
      assert.equal(blind.ok, false, 'a lower lobe missing, consolidated or collapsed, must not pass');
      assert.ok(qcFailures(blind).some((f) => f.startsWith(`missed:${lung}`)), qcFailures(blind).join('; '));
    } else {
      // A small pleural tumour may be below the missed-lung limit; it must not pass *because* of the omission.
      const missed = blind.checks.find((c) => c.name.startsWith('missed:') && Number(c.value) > 0);
      assert.ok(missed, `the omission is measured: ${JSON.stringify(blind.checks)}`);
    }
  });
}
