import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticChest } from '../../test/support/synthetic-chest.ts';
import { DfaError, isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import type { Segmenter } from '../core/ports.ts';
import type { LabelMap, Volume } from '../core/volume.ts';
import { createClassicalLungSegmenter } from './classical/lung-segmenter.ts';
import { shippedClassicalManifest } from './classical/manifest.ts';
import { qcLungs } from './qc.ts';
import { segmentWithQc } from './segment.ts';

const { volume } = syntheticChest();
const classical = createClassicalLungSegmenter();
const base = shippedClassicalManifest();

/** Fakes of our own making, to drive the fallback logic. */
function fake(name: string, run: (v: Volume) => LabelMap | Promise<LabelMap>): Segmenter & { calls: number } {
  const s = {
    manifest: { ...base, name, kind: 'onnx' as const },
    calls: 0,
    segment: async (v: Volume) => {
      s.calls++;
      return run(v);
    },
  };
  return s;
}
const empty = (v: Volume): LabelMap => ({ dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: new Uint8Array(v.data.length) });
/** Labels the whole body-sized block as one lung: volumes and ratio implausible. */
const everythingLeft = (v: Volume): LabelMap => ({ ...empty(v), data: new Uint8Array(v.data.length).fill(1) });

test('first segmenter passes QC: used, no fallback', async () => {
  const log = memoryLogger();
  const r = await segmentWithQc(volume, [classical, fake('never', empty)], log);
  assert.equal(r.segmenter, 'classical-lung');
  assert.equal(r.qc.ok, true);
  assert.equal(r.reviewRequired, false);
  assert.equal(r.fallbackReason, undefined);
  assert.equal(r.attempts.length, 1);
  assert.ok(r.volumesMl.Lung_L > 500 && r.volumesMl.Lung_R > 500);
});

test('a result failing QC falls back to the next segmenter, and says why', async () => {
  const log = memoryLogger();
  const bad = fake('bad-unet', everythingLeft);
  const r = await segmentWithQc(volume, [bad, classical], log);
  assert.equal(bad.calls, 1);
  assert.equal(r.segmenter, 'classical-lung');
  assert.equal(r.qc.ok, true);
  assert.equal(r.attempts.length, 2);
  assert.equal(r.attempts[0].ok, false);
  assert.equal(r.attempts[0].qc?.ok, false);
  assert.match(r.fallbackReason ?? '', /bad-unet failed QC: .*volume:Lung_L/);
  assert.ok(log.lines.some((l) => l.includes('segmentation failed QC') && l.includes('bad-unet')));
});

test('a segmenter that throws falls back too; the error is recorded, not rethrown', async () => {
  const log = memoryLogger();
  const boom = fake('boom', () => {
    throw new DfaError('MODEL_INVALID', 'weights missing');
  });
  const r = await segmentWithQc(volume, [boom, classical], log);
  assert.equal(r.segmenter, 'classical-lung');
  assert.equal(r.attempts[0].error, 'MODEL_INVALID: weights missing');
  assert.match(r.fallbackReason ?? '', /boom failed: MODEL_INVALID/);
});

test('nothing passes QC: best result returned for review (a value, not an exception)', async () => {
  const log = memoryLogger();
  const r = await segmentWithQc(volume, [fake('empty', empty), fake('all-left', everythingLeft)], log);
  assert.equal(r.reviewRequired, true);
  assert.equal(r.qc.ok, false);
  assert.equal(r.attempts.length, 2);
  // the one with fewer failed checks wins; ties keep the configured order
  const failed = (i: number) => r.attempts[i].qc!.checks.filter((c) => !c.ok).length;
  assert.equal(r.segmenter, failed(0) <= failed(1) ? 'empty' : 'all-left');
});

test('every segmenter throws: SEGMENTATION_FAILED with the cause', async () => {
  const log = memoryLogger();
  const cause = new Error('out of memory');
  const a = fake('a', () => {
    throw cause;
  });
  await assert.rejects(segmentWithQc(volume, [a], log), (e) => isDfaError(e, 'SEGMENTATION_FAILED') && e.cause === cause && /a: SEGMENTATION_FAILED: out of memory/.test(e.message));
  await assert.rejects(segmentWithQc(volume, [], log), (e) => isDfaError(e, 'SEGMENTATION_FAILED'));
});

test('a label map on the wrong grid is a failure of that segmenter', async () => {
  const log = memoryLogger();
  const wrong = fake('wrong-grid', (v) => ({ ...empty(v), dims: [1, 1, 1], data: new Uint8Array(1) }));
  const r = await segmentWithQc(volume, [wrong, classical], log);
  assert.equal(r.segmenter, 'classical-lung');
  assert.match(r.attempts[0].error ?? '', /SEGMENTATION_FAILED: wrong-grid returned a 1×1×1 label map/);
});

test('an aborted job stops instead of falling back', async () => {
  const log = memoryLogger();
  const ctl = new AbortController();
  const aborting = fake('aborting', () => {
    ctl.abort();
    throw ctl.signal.reason;
  });
  const next = fake('next', empty);
  await assert.rejects(segmentWithQc(volume, [aborting, next], log, { signal: ctl.signal }));
  assert.equal(next.calls, 0);
});

test('implausibly small lungs from a working segmenter: QC fails, flagged for review, limits can be relaxed', async () => {
  const small = syntheticChest({ lungScale: 0.45 }).volume;
  const log = memoryLogger();
  const r = await segmentWithQc(small, [classical], log);
  assert.equal(r.reviewRequired, true);
  assert.ok(r.qc.checks.some((c) => c.name === 'volume:Lung_L' && !c.ok));
  const relaxed = await segmentWithQc(small, [classical], log, { qc: (v, l, m) => qcLungs(v, l, m, { limits: { lungMl: [50, 5000], totalMl: [100, 9000] } }) });
  assert.equal(relaxed.reviewRequired, false, JSON.stringify(relaxed.qc.checks.filter((c) => !c.ok)));
});
