import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Segmenter } from '../../src/core/ports.ts';
import type { Volume } from '../../src/core/volume.ts';
import { generateChestPhantom } from '../../src/dicom/phantom/index.ts';
import { parseManifest } from '../../src/ml/manifest.ts';
import { dice } from '../../src/ml/metrics.ts';

/**
 * The contract every Segmenter implementation passes (hono's shared `common.case.test.ts` idea):
 * run it from the implementation's own test file, e.g.
 *
 *   segmenterContract('classical', async () => createClassicalLungSegmenter());
 *
 * (`void test(...)`: the runner awaits its tests itself.) It checks the port's promises (ports.ts): a label map on the volume's own grid, label values only
 * from the manifest, the input left untouched, determinism, abort honoured, and — per manifest
 * label, matched to the phantom's truth by ROI name — the structure found on the right side.
 */
export interface SegmenterContractOptions {
  /** Minimum Dice per label on the small phantom (default 0.9). */
  readonly minDice?: number;
}

export function segmenterContract(name: string, make: () => Promise<Segmenter>, opts: SegmenterContractOptions = {}): void {
  const minDice = opts.minDice ?? 0.9;
  let phantom: ReturnType<typeof generateChestPhantom> | undefined;
  const small = () => (phantom ??= generateChestPhantom({ size: 128, slices: 64, seed: 11 }));

  void test(`${name}: manifest is a valid model manifest`, async () => {
    const s = await make();
    assert.doesNotThrow(() => parseManifest(s.manifest, `${name} manifest`));
    assert.ok(s.manifest.labels.length > 0);
  });

  void test(`${name}: label map on the volume's own grid, values from the manifest, input untouched, deterministic`, async () => {
    const s = await make();
    const v: Volume = small().volume;
    const before = v.data.slice();
    const a = await s.segment(v);
    assert.deepEqual(a.dims, v.dims);
    assert.deepEqual(a.spacing, v.spacing);
    assert.deepEqual(a.origin, v.origin);
    assert.deepEqual(a.direction, v.direction);
    assert.equal(a.data.length, v.data.length);
    const allowed = new Set([0, ...s.manifest.labels.map((l) => l.value)]);
    const seen = new Set(a.data);
    for (const x of seen) assert.ok(allowed.has(x), `label value ${x} is not in the manifest`);
    assert.deepEqual(v.data, before, 'segment() must not modify the volume');
    const b = await s.segment(v);
    assert.deepEqual(b.data, a.data, 'same input, same output');
  });

  void test(`${name}: each label finds its structure on the phantom (matched by ROI name), never swapped`, async () => {
    const s = await make();
    const p = small();
    const labels = await s.segment(p.volume);
    for (const l of s.manifest.labels) {
      const truth = p.truth[l.roiName];
      assert.ok(truth, `phantom has no truth for ${l.roiName}`);
      const d = dice(labels.data, truth, l.value, 1);
      assert.ok(d >= minDice, `${l.roiName} Dice ${d.toFixed(4)} < ${minDice}`);
      for (const other of s.manifest.labels) {
        if (other === l || !p.truth[other.roiName]) continue;
        assert.ok(dice(labels.data, p.truth[other.roiName], l.value, 1) < 0.1, `${l.roiName} label lies on ${other.roiName}`);
      }
    }
  });

  void test(`${name}: an aborted signal rejects`, async () => {
    const s = await make();
    await assert.rejects(s.segment(small().volume, { signal: AbortSignal.abort() }));
  });
}
