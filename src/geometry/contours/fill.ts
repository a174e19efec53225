/**
 * Polygons → binary mask slice by scanline fill at pixel centres with the even-odd rule over ALL
 * polygons of the slice together. Even-odd is what makes the "separate contours" hole convention
 * work (an inner contour punches a hole; overlapping contours XOR, as plastimatch does).
 *
 * Coordinates are continuous pixel indices: pixel (i, j) has its centre at (i, j). A centre exactly
 * on an edge counts as inside on the left/top side (half-open rule), so shared edges never double-fill.
 */
export function fillEvenOdd(polygons: readonly ArrayLike<number>[], width: number, height: number, out?: Uint8Array): Uint8Array {
  const mask = out ?? new Uint8Array(width * height);
  if (polygons.length === 0) return mask;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const p of polygons) {
    for (let i = 1; i < p.length; i += 2) {
      if (p[i] < ymin) ymin = p[i];
      if (p[i] > ymax) ymax = p[i];
    }
  }
  const j0 = Math.max(0, Math.ceil(ymin));
  const j1 = Math.min(height - 1, Math.floor(ymax));
  const xs: number[] = [];
  for (let j = j0; j <= j1; j++) {
    xs.length = 0;
    for (const p of polygons) {
      const n = p.length / 2;
      for (let a = 0; a < n; a++) {
        const b = a + 1 === n ? 0 : a + 1;
        const ya = p[2 * a + 1];
        const yb = p[2 * b + 1];
        // Half-open in y so a vertex on the scanline is counted once.
        if ((ya <= j && j < yb) || (yb <= j && j < ya)) {
          const xa = p[2 * a];
          const xb = p[2 * b];
          xs.push(xa + ((j - ya) * (xb - xa)) / (yb - ya));
        }
      }
    }
    xs.sort((u, v) => u - v);
    const row = j * width;
    for (let q = 0; q + 1 < xs.length; q += 2) {
      const i0 = Math.max(0, Math.ceil(xs[q]));
      const i1 = Math.min(width, Math.ceil(xs[q + 1]));
      for (let i = i0; i < i1; i++) mask[row + i] = 1;
    }
  }
  return mask;
}
