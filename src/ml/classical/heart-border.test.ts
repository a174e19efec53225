import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEDIASTINUM, MediastinalBorder } from './heart-border.ts';

// One line of 10 voxels, medial end first. Classes (dense-lung.ts): 0 band, 1 candidate, 2 aerated, 3 outside the footprint.
const line = { step: 1, lineStep: 10, first: 0, lines: 1, length: 10, reversed: false };
const noneKept = new Uint8Array(10);

test('a border seen against aerated lung is carried down where consolidation hides it', () => {
  const b = new MediastinalBorder(line, 1);
  assert.equal(b.mark(Uint8Array.from([0, 0, 1, 1, 1, 2, 2, 2, 3, 3])), 0, 'nothing above: nothing taken out');
  b.settle(noneKept); // heart seen between the band and the lung, not recovered: a border at 5
  const below = Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 3]); // the run now reaches the chest wall
  assert.equal(b.mark(below), 3);
  assert.deepEqual([...below], [0, 0, MEDIASTINUM, MEDIASTINUM, MEDIASTINUM, 1, 1, 1, 1, 3], 'heart out, the lobe beside it stays a candidate');
});

test('no border is born from dense tissue recovered as lung, and a carried one ends with the run', () => {
  const b = new MediastinalBorder(line, 1);
  b.mark(Uint8Array.from([0, 0, 1, 1, 1, 2, 2, 2, 3, 3]));
  b.settle(Uint8Array.from([0, 0, 1, 1, 1, 0, 0, 0, 0, 0]));
  assert.equal(b.mark(Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 3])), 0);
  const c = new MediastinalBorder(line, 1);
  c.mark(Uint8Array.from([0, 0, 1, 1, 1, 2, 2, 2, 3, 3]));
  c.settle(noneKept);
  c.mark(Uint8Array.from([0, 0, 2, 2, 2, 2, 2, 2, 3, 3])); // aerated lung down to the band: the heart has ended
  c.settle(noneKept);
  assert.equal(c.mark(Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 3])), 0);
});
