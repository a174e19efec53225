import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelMap, Vec3 } from '../../core/volume.ts';
import { patientToIndex } from '../../core/volume.ts';
import { fillEvenOdd } from './fill.ts';
import { contoursByLabel, labelContours } from './index.ts';
import { mergeHoles } from './keyhole.ts';
import { simplifyClosed } from './simplify.ts';
import { cutCorners, traceLoops } from './trace.ts';

function grid(rows: string[]): { mask: Uint8Array; w: number; h: number } {
  const h = rows.length;
  const w = rows[0].length;
  const mask = new Uint8Array(w * h);
  rows.forEach((r, y) => [...r].forEach((ch, x) => (mask[x + y * w] = ch === '#' ? 1 : 0)));
  return { mask, w, h };
}

/** What plastimatch does by default: fill each contour on its own, OR the results. */
function orFill(polys: ArrayLike<number>[], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (const p of polys) fillEvenOdd([p], w, h).forEach((v, i) => (out[i] |= v));
  return out;
}

/** Loops are on the pixel-edge grid; pixel centres are at +0.5 there. */
function refill(loops: { xy: ArrayLike<number> }[], w: number, h: number): Uint8Array {
  return fillEvenOdd(loops.map((l) => Array.from(l.xy, (v) => v - 0.5)), w, h);
}

test('a single pixel gives a 4-vertex square on its edges, clockwise on screen', () => {
  const { mask, w, h } = grid(['...', '.#.', '...']);
  const loops = traceLoops(mask, w, h);
  assert.equal(loops.length, 1);
  assert.deepEqual([...loops[0].xy], [1, 1, 2, 1, 2, 2, 1, 2]);
  assert.equal(loops[0].area, 1);
});

test('a ring gives an outer loop and a hole loop of opposite orientation', () => {
  const { mask, w, h } = grid(['#####', '#...#', '#...#', '#####']);
  const loops = traceLoops(mask, w, h);
  assert.equal(loops.length, 2);
  const areas = loops.map((l) => l.area).sort((a, b) => a - b);
  assert.deepEqual(areas, [-6, 20]);
  assert.deepEqual(refill(loops, w, h), mask);
});

test('diagonal neighbours become two loops touching at a corner; islands are kept', () => {
  const { mask, w, h } = grid(['#...', '.#..', '...#']);
  const loops = traceLoops(mask, w, h);
  assert.equal(loops.length, 3);
  assert.ok(loops.every((l) => l.area === 1));
  assert.deepEqual(refill(loops, w, h), mask);
});

test('random masks round-trip exactly through trace + even-odd fill (holes, saddles, islands)', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let t = 0; t < 200; t++) {
    const w = 3 + Math.floor(rnd() * 20);
    const h = 3 + Math.floor(rnd() * 20);
    const p = rnd();
    const mask = new Uint8Array(w * h).map(() => (rnd() < p ? 1 : 0));
    const loops = traceLoops(mask, w, h);
    assert.deepEqual(refill(loops, w, h), mask, `case ${t}`);
    const cut = loops.map((l) => ({ xy: simplifyClosed(cutCorners(l.xy), 0.35), area: l.area }));
    assert.deepEqual(refill(cut, w, h), mask, `case ${t}, cut corners`);
    // Keyholes: one contour per island; right under even-odd AND under OR-ing each contour's fill.
    const merged = mergeHoles(cut).map((xy) => Array.from(xy, (v) => v - 0.5));
    assert.deepEqual(fillEvenOdd(merged, w, h), mask, `case ${t}, keyhole even-odd`);
    assert.deepEqual(orFill(merged, w, h), mask, `case ${t}, keyhole OR`);
  }
});

function blobLabels(dims: Vec3, direction: readonly [Vec3, Vec3, Vec3]): LabelMap {
  const [nx, ny, nz] = dims;
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const d1 = Math.hypot(i - 12, j - 15) ;
        const d2 = Math.hypot(i - 32, j - 18);
        if (d1 < 9 && d1 > 3 + k * 0.5) data[i + j * nx + k * nx * ny] = 1; // ring: has a hole
        if (d2 < 6 + k) data[i + j * nx + k * nx * ny] = 2;
      }
  return { dims, spacing: [0.8, 0.9, 2.5], origin: [-20, 30, 100], direction, data };
}

test('contours in LPS refill to the same label map, with and without simplification, also oblique', () => {
  const s = Math.SQRT1_2;
  const oblique: [Vec3, Vec3, Vec3] = [[s, s, 0], [0, 0, -1], [-s, s, 0]];
  const axial: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (const direction of [axial, oblique]) {
    const labels = blobLabels([48, 36, 5], direction);
    for (const [tolerancePx, vertices, holes] of [
      [0, 'corners', 'separate'],
      [0.45, 'corners', 'keyhole'],
      [0, 'midpoints', 'keyhole'],
      [0.3, 'midpoints', 'separate'],
      [0.35, 'midpoints', 'keyhole'],
    ] as const) {
      const byLabel = contoursByLabel(labels, [1, 2], { tolerancePx, vertices, holes });
      for (const value of [1, 2]) {
        const cs = byLabel.get(value)!;
        if (value === 1) assert.equal(cs.some((c) => c.hole), holes === 'separate', 'ring has hole contours iff separate');
        const [nx, ny, nz] = labels.dims;
        for (let k = 0; k < nz; k++) {
          const polys = cs
            .filter((c) => c.slice === k)
            .map((c) => {
              const xy: number[] = [];
              for (let p = 0; p < c.points.length; p += 3) {
                const [i, j, kk] = patientToIndex(labels, [c.points[p], c.points[p + 1], c.points[p + 2]]);
                assert.ok(Math.abs(kk - k) < 1e-9, 'contour lies in its slice plane');
                xy.push(i, j);
              }
              return xy;
            });
          const got = fillEvenOdd(polys, nx, ny);
          const want = labels.data.subarray(k * nx * ny, (k + 1) * nx * ny).map((v) => (v === value ? 1 : 0));
          assert.deepEqual(got, want, `label ${value} slice ${k} tol ${tolerancePx} ${vertices} ${holes}`);
          if (holes === 'keyhole') assert.deepEqual(orFill(polys, nx, ny), want, `OR fill, label ${value} slice ${k}`);
        }
      }
    }
  }
});

test('simplification keeps point counts down on a large disc and rejects unsafe tolerances', () => {
  const n = 512;
  const data = new Uint8Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (Math.hypot(i - 256, j - 256) < 200) data[i + j * n] = 1;
  const labels: LabelMap = { dims: [n, n, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], data };
  const exact = labelContours(labels, 1, { tolerancePx: 0, vertices: 'corners' });
  const simple = labelContours(labels, 1);
  assert.equal(exact.length, 1);
  assert.equal(simple.length, 1);
  assert.ok(simple[0].points.length < exact[0].points.length / 1.8, `${simple[0].points.length / 3} vs ${exact[0].points.length / 3} points`);
  // A 45° diamond's staircase collapses to its 4 corners (+ at most a few).
  const diamond = new Uint8Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (Math.abs(i - 256) + Math.abs(j - 256) < 150) diamond[i + j * n] = 1;
  const d = labelContours({ ...labels, data: diamond }, 1);
  assert.equal(d.length, 1);
  assert.ok(d[0].points.length / 3 <= 8, `diamond has ${d[0].points.length / 3} points`);
  assert.throws(() => labelContours(labels, 1, { tolerancePx: 0.36 }));
});
