import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticChest } from '../../../test/support/synthetic-chest.ts';
import { isDfaError } from '../../core/errors.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import { createClassicalLungSegmenterInWorker } from './worker-segmenter.ts';

test('worker-thread segmenter gives the in-process result and keeps the event loop free', async () => {
  const { volume } = syntheticChest({ anteriorJunction: true });
  const direct = await createClassicalLungSegmenter().segment(volume);
  const inWorker = createClassicalLungSegmenterInWorker();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const labels = await inWorker.segment(volume);
  clearInterval(timer);
  assert.deepEqual(labels.dims, volume.dims);
  assert.deepEqual(labels.data, direct.data);
  assert.equal(inWorker.lastRun?.split, 'erosion');
  assert.ok(ticks > 0, 'timers ran while the worker segmented');
});

test('worker-thread segmenter: faults keep their code; abort rejects and stops the worker', async () => {
  const { volume } = syntheticChest({ dims: [20, 16, 8] });
  const s = createClassicalLungSegmenterInWorker();
  await assert.rejects(s.segment({ ...volume, data: new Int16Array(3) }), (e) => isDfaError(e, 'SEGMENTATION_FAILED') && /dims say/.test(e.message));
  await assert.rejects(s.segment(volume, { signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === 'AbortError');
  const ctl = new AbortController();
  const pending = s.segment(syntheticChest().volume, { signal: ctl.signal });
  ctl.abort();
  await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
});

test('worker-thread segmenter: a finished thread is reused; concurrent calls get their own; faulted or aborted threads are not reused', async () => {
  const small = syntheticChest({ dims: [24, 20, 10] }).volume;
  const s = createClassicalLungSegmenterInWorker();
  const a = await s.segment(small);
  const b = await s.segment(small);
  assert.deepEqual(a.data, b.data);
  assert.equal(s.threadsStarted, 1, 'sequential jobs share one thread');
  await Promise.all([s.segment(small), s.segment(small)]);
  assert.equal(s.threadsStarted, 2, 'two at once: the parked thread plus one new');
  // A fault terminates that thread; the next job still works (on a parked or new thread).
  await assert.rejects(s.segment({ ...small, data: new Int16Array(3) }), (e) => isDfaError(e, 'SEGMENTATION_FAILED'));
  assert.deepEqual((await s.segment(small)).data, a.data);
  const ctl = new AbortController();
  const pending = s.segment(syntheticChest().volume, { signal: ctl.signal });
  ctl.abort();
  await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
  assert.deepEqual((await s.segment(small)).data, a.data);
  await s.release();
  // After release every parked thread is gone; a new call starts a fresh one.
  const before = s.threadsStarted;
  assert.deepEqual((await s.segment(small)).data, a.data);
  assert.equal(s.threadsStarted, before + 1);
  await s.release();
});
