/**
 * Run-length view of a label map: per label, per slice, per row, the [x0, x1) intervals where the
 * label is. One tight pass over the voxels; everything after (bounding boxes, contour tracing, SEG
 * bit packing) costs in proportion to the runs, not to the 512×512×300 grid.
 */
export interface SliceRuns {
  readonly k: number;
  /** First row with runs; rows[i] belongs to row y0 + i. */
  readonly y0: number;
  /** Per row, interleaved [x0, x1) pairs, ascending, disjoint (pixel coordinates). */
  readonly rows: number[][];
  /** Column bounding box over all rows: [xMin, xMax). */
  xMin: number;
  xMax: number;
}

/** runs[labelIndex] = the slices (ascending k) where values[labelIndex] occurs. */
export function labelRuns(data: Uint8Array, dims: readonly [number, number, number], values: readonly number[]): SliceRuns[][] {
  const [nx, ny, nz] = dims;
  const index = new Int16Array(256).fill(-1);
  values.forEach((v, i) => (index[v] = i));
  const out: SliceRuns[][] = values.map(() => []);
  const current: (SliceRuns | undefined)[] = values.map(() => undefined);
  for (let k = 0; k < nz; k++) {
    current.fill(undefined);
    for (let y = 0; y < ny; y++) {
      const row = (k * ny + y) * nx;
      const end = row + nx;
      let p = row;
      while (p < end) {
        while (p < end && data[p] === 0) p++;
        if (p === end) break;
        const v = data[p];
        const start = p;
        while (p < end && data[p] === v) p++;
        const li = index[v];
        if (li < 0) continue;
        let s = current[li];
        if (!s) {
          s = { k, y0: y, rows: [], xMin: nx, xMax: 0 };
          current[li] = s;
          out[li].push(s);
        }
        const r = y - s.y0;
        while (s.rows.length <= r) s.rows.push([]);
        const x0 = start - row;
        const x1 = p - row;
        s.rows[r].push(x0, x1);
        if (x0 < s.xMin) s.xMin = x0;
        if (x1 > s.xMax) s.xMax = x1;
      }
    }
  }
  return out;
}

/** Runs of one binary mask slice (non-zero = foreground), rows 0..height-1. */
export function maskRuns(mask: Uint8Array, width: number, height: number): number[][] {
  const rows: number[][] = [];
  for (let y = 0; y < height; y++) {
    const r: number[] = [];
    let x = 0;
    const o = y * width;
    while (x < width) {
      while (x < width && mask[o + x] === 0) x++;
      if (x === width) break;
      const s = x;
      while (x < width && mask[o + x] !== 0) x++;
      r.push(s, x);
    }
    rows.push(r);
  }
  return rows;
}
