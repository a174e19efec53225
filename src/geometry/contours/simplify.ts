/**
 * Douglas–Peucker simplification of a closed loop (pixel units).
 *
 * Why the default tolerance is safe: every pixel centre lies ≥ √2/4 ≈ 0.354 px from the cut-corner
 * pixel-edge boundary (trace.ts cutCorners), and
 * a Douglas–Peucker chord stays within `tolerance` of the original polyline (the polyline lies in the
 * chord's 2·tol strip and connects its ends, so it crosses every perpendicular of the chord inside the
 * strip). With tolerance < 0.354 px no pixel centre changes side, so a centre-sampling rasteriser
 * (even-odd or non-zero) gives back exactly the same mask, while staircases collapse to diagonals.
 */
export const DEFAULT_TOLERANCE_PX = 0.3;
/** Largest tolerance that still round-trips exactly: √2/4 px. */
export const MAX_EXACT_TOLERANCE_PX = Math.SQRT2 / 4;

/** Returns the kept vertices (interleaved x, y) of a closed loop; loops of ≤ 4 vertices are kept as is. */
export function simplifyClosed(xy: ArrayLike<number>, tolerance: number): Float64Array {
  const n = xy.length / 2;
  if (tolerance <= 0 || n <= 4) return Float64Array.from(xy as ArrayLike<number>);
  // Split the ring at vertex 0 and the vertex farthest from it; simplify both open halves.
  let far = 0;
  let best = -1;
  for (let i = 1; i < n; i++) {
    const dx = xy[2 * i] - xy[0];
    const dy = xy[2 * i + 1] - xy[1];
    const d = dx * dx + dy * dy;
    if (d > best) {
      best = d;
      far = i;
    }
  }
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[far] = 1;
  const tol2 = tolerance * tolerance;
  markOpen(xy, n, 0, far, tol2, keep);
  markOpen(xy, n, far, n, tol2, keep); // index n wraps to vertex 0
  let count = 0;
  for (let i = 0; i < n; i++) count += keep[i];
  // A ring needs at least 3 vertices with area; fall back to the original if DP collapsed it.
  if (count < 3) return Float64Array.from(xy as ArrayLike<number>);
  const res = new Float64Array(count * 2);
  let w = 0;
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    res[w++] = xy[2 * i];
    res[w++] = xy[2 * i + 1];
  }
  return res;
}

/** Iterative DP on ring indices [from, to] (to may equal n, meaning vertex 0). */
function markOpen(xy: ArrayLike<number>, n: number, from: number, to: number, tol2: number, keep: Uint8Array): void {
  const stack: number[] = [from, to];
  while (stack.length > 0) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    if (b - a < 2) continue;
    const ax = xy[2 * (a % n)];
    const ay = xy[2 * (a % n) + 1];
    const bx = xy[2 * (b % n)];
    const by = xy[2 * (b % n) + 1];
    const ex = bx - ax;
    const ey = by - ay;
    const len2 = ex * ex + ey * ey;
    let worst = -1;
    let worstD = -1;
    for (let i = a + 1; i < b; i++) {
      const px = xy[2 * i] - ax;
      const py = xy[2 * i + 1] - ay;
      let d2: number;
      if (len2 === 0) d2 = px * px + py * py;
      else {
        // Distance to the segment (not the infinite line), so back-tracking spikes are kept.
        const t = Math.max(0, Math.min(1, (px * ex + py * ey) / len2));
        const qx = px - t * ex;
        const qy = py - t * ey;
        d2 = qx * qx + qy * qy;
      }
      if (d2 > worstD) {
        worstD = d2;
        worst = i;
      }
    }
    if (worstD > tol2) {
      keep[worst] = 1;
      stack.push(a, worst, worst, b);
    }
  }
}
