/**
 * Keyhole holes: merge every hole loop into the outer loop around it with a zero-width bridge, so
 * each island is ONE contour. Readers that fill each contour on its own and OR them (plastimatch's
 * default, some planning systems) then still see the hole; even-odd / XOR readers see the same,
 * because the bridge's two coincident, opposite edges cancel under either fill rule.
 *
 * Bridges as in earcut: holes in order of their leftmost vertex; from that vertex a ray to the left
 * meets the nearest edge of the outer loop (which already includes the holes merged before, so no
 * bridge crosses another hole); the bridge point is inserted on that edge.
 * Coordinates are 2D (pixel units), interleaved [x0, y0, x1, y1, …]; outer loops have positive
 * shoelace area, holes negative (trace.ts).
 */
export interface Ring {
  xy: ArrayLike<number>;
  area: number;
}

/** Outer loops with their holes merged in; holes whose outer cannot be found are returned as they are. */
export function mergeHoles(rings: readonly Ring[]): Float64Array[] {
  const outers = rings.filter((r) => r.area > 0);
  const holes = rings.filter((r) => r.area < 0);
  if (holes.length === 0) return outers.map((r) => Float64Array.from(r.xy));
  const byOuter = new Map<number, Ring[]>();
  const orphans: Float64Array[] = [];
  for (const h of holes) {
    // The smallest outer loop containing the hole (islands inside holes are outers of their own).
    let best = -1;
    for (let o = 0; o < outers.length; o++) {
      if (outers[o].area <= -h.area) continue;
      if (!contains(outers[o].xy, h.xy)) continue;
      if (best < 0 || outers[o].area < outers[best].area) best = o;
    }
    if (best < 0) orphans.push(Float64Array.from(h.xy));
    else byOuter.set(best, [...(byOuter.get(best) ?? []), h]);
  }
  const out = outers.map((o, i) => {
    const hs = byOuter.get(i);
    if (!hs) return Float64Array.from(o.xy);
    let ring = Array.from(o.xy);
    const ordered = hs.map((h) => ({ h, lm: leftmost(h.xy) })).sort((a, b) => a.h.xy[2 * a.lm] - b.h.xy[2 * b.lm]);
    for (const { h, lm } of ordered) ring = bridge(ring, h.xy, lm);
    return Float64Array.from(ring);
  });
  return [...out, ...orphans];
}

function leftmost(xy: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xy.length / 2; i++) {
    if (xy[2 * i] < xy[2 * best] || (xy[2 * i] === xy[2 * best] && xy[2 * i + 1] < xy[2 * best + 1])) best = i;
  }
  return best;
}

/** Even-odd point-in-polygon for a point of `inner` that is not on `outer` (loops never cross). */
function contains(outer: ArrayLike<number>, inner: ArrayLike<number>): boolean {
  // Sample the midpoint of the hole's first edge: pixel-edge loops of one mask never cross, so a
  // point strictly on the hole's boundary is strictly inside or outside any other loop.
  const px = (inner[0] + inner[2]) / 2;
  const py = (inner[1] + inner[3]) / 2;
  let inside = false;
  const n = outer.length / 2;
  for (let a = 0, b = n - 1; a < n; b = a++) {
    const ya = outer[2 * a + 1];
    const yb = outer[2 * b + 1];
    if (ya > py !== yb > py) {
      const x = outer[2 * a] + ((py - ya) * (outer[2 * b] - outer[2 * a])) / (yb - ya);
      if (x > px) inside = !inside;
    }
  }
  return inside;
}

/** Splice `hole` into `ring` through a bridge from the hole's vertex `lm` leftwards. */
function bridge(ring: number[], hole: ArrayLike<number>, lm: number): number[] {
  const hx = hole[2 * lm];
  const hy = hole[2 * lm + 1];
  const n = ring.length / 2;
  let bestX = -Infinity;
  let edge = -1;
  for (let a = 0; a < n; a++) {
    const b = (a + 1) % n;
    const ya = ring[2 * a + 1];
    const yb = ring[2 * b + 1];
    if (ya === yb) continue; // horizontal edges are met at their end points by the neighbours
    const lo = Math.min(ya, yb);
    const hi = Math.max(ya, yb);
    if (hy < lo || hy > hi) continue;
    const x = ring[2 * a] + ((hy - ya) * (ring[2 * b] - ring[2 * a])) / (yb - ya);
    if (x <= hx && x > bestX) {
      bestX = x;
      edge = a;
    }
  }
  if (edge < 0) return ring.concat(Array.from(hole)); // cannot happen for a contained hole; stay valid
  // Ring: … a, P, hole[lm], hole[lm+1], …, hole[lm], P, b …  (P = bridge point on edge a→b)
  const m = hole.length / 2;
  const a = edge;
  const b = (a + 1) % n;
  const atA = ring[2 * a] === bestX && ring[2 * a + 1] === hy;
  const atB = ring[2 * b] === bestX && ring[2 * b + 1] === hy;
  // Bridge point P; when it is an existing vertex, do not repeat that vertex next to itself.
  const path: number[] = atA ? [] : [bestX, hy];
  for (let i = 0; i <= m; i++) {
    const v = (lm + i) % m;
    path.push(hole[2 * v], hole[2 * v + 1]);
  }
  if (!atB) path.push(bestX, hy);
  if (atA) path.push(bestX, hy);
  return [...ring.slice(0, 2 * a + 2), ...path, ...ring.slice(2 * a + 2)];
}
