import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Volume } from '../core/volume.ts';
import { PrefetchedVolumes } from './prefetched-volumes.ts';

const fake = (n: number) => ({ dims: [n, 1, 1] }) as unknown as Volume;

test('a prefetch is taken once, only with the same files; few are kept; a failed load is handed over, not thrown', async () => {
  const loads: string[] = [];
  const p = new PrefetchedVolumes(async (files) => {
    loads.push(files.join(','));
    if (files[0] === 'bad') throw new Error('unreadable');
    return fake(files.length);
  }, { keep: 2 });
  p.start('jobs/a/volume', ['x/1', 'x/2']);
  p.start('jobs/a/volume', ['x/1', 'x/2']); // the same again: one load
  assert.equal(loads.length, 1);
  assert.equal(p.take('jobs/a/volume', ['x/1']), undefined, 'other files: not this load');
  assert.equal(p.take('jobs/a/volume', ['x/1', 'x/2']), undefined, 'a mismatched take drops the entry');
  p.start('jobs/b/volume', ['y/1']);
  assert.equal((await p.take('jobs/b/volume', ['y/1']))?.dims[0], 1);
  assert.equal(p.take('jobs/b/volume', ['y/1']), undefined, 'taken once');
  for (const k of ['c', 'd', 'e']) p.start(`jobs/${k}/volume`, [`${k}/1`]);
  assert.equal(p.size, 2, 'the oldest goes beyond keep');
  assert.equal(p.take('jobs/c/volume', ['c/1']), undefined);
  p.start('jobs/f/volume', ['bad']);
  await assert.rejects(p.take('jobs/f/volume', ['bad'])!, /unreadable/);
});

test('a prefetch nobody took expires', async () => {
  const p = new PrefetchedVolumes(async () => fake(1), { ttlMs: 5 });
  p.start('jobs/a/volume', ['x/1']);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(p.take('jobs/a/volume', ['x/1']), undefined);
});
