/**
 * Binary mask slice → closed boundary loops whose vertices lie on PIXEL EDGES (corners of the pixel
 * grid), not pixel centres. A rasteriser that tests pixel centres (plastimatch, most TPSs, our own
 * reader) then reproduces the mask exactly; centre-vertex contours lose half a pixel all round.
 *
 * Vertex (x, y) is the corner shared by pixels (x-1, y-1), (x, y-1), (x-1, y), (x, y); pixel (i, j)
 * covers [i, i+1] × [j, j+1]. Each foreground pixel contributes its boundary edges walked clockwise
 * on screen (y down): top → right → bottom → left, so interior edges cancel and
 *   - outer boundaries come out with positive shoelace area,
 *   - holes come out with negative shoelace area.
 * At a saddle (two foreground pixels touching only diagonally) we always turn right, which keeps
 * hugging the same pixel: diagonal neighbours become separate loops that touch at one point
 * (foreground is 4-connected), and no loop crosses itself.
 *
 * Only vertices where the direction changes are emitted, so collinear points are removed exactly.
 */
import { maskRuns } from './runs.ts';

/** Directions, clockwise on screen: east (+x), south (+y), west (−x), north (−y). */
const DX = [1, 0, -1, 0] as const;
const DY = [0, 1, 0, -1] as const;

export interface Loop {
  /** Vertex coordinates on the pixel-edge grid, interleaved [x0, y0, x1, y1, …]; closed implicitly. */
  readonly xy: Int32Array;
  /** Shoelace area in pixels²: > 0 outer boundary, < 0 hole. */
  readonly area: number;
}

/**
 * Trace every boundary loop of the foreground (`mask[x + y * width] !== 0`) of one slice.
 * Loops are returned in raster order of their first vertex.
 */
export function traceLoops(mask: Uint8Array, width: number, height: number): Loop[] {
  return traceRuns(maskRuns(mask, width, height), 0, 0, width);
}

/**
 * Same, from row runs: rows[i] holds [x0, x1) pairs of row y0 + i (see runs.ts). Vertices come out
 * in the slice's own pixel-edge coordinates. Work is proportional to the runs and the perimeter:
 * only vertices at run ends are examined one by one; along a span where the rows above and below
 * differ, every vertex carries the same horizontal edge and is filled in at once.
 */
export function traceRuns(rows: readonly (readonly number[])[], y0: number, xMin: number, xMax: number): Loop[] {
  const h = rows.length;
  const vw = xMax - xMin + 1;
  const vh = h + 1;
  const out = scratchGrid(vw * vh);
  const saddles = new Set<number>();
  const starts: number[] = [];
  for (let y = 0; y < vh; y++) {
    const up = y > 0 ? rows[y - 1] : NO_RUNS; // pixel row above the vertex row
    const dn = y < h ? rows[y] : NO_RUNS; // pixel row below
    // Breakpoints: every run end of either row, ascending and unique.
    const bp = scratchBreakpoints(up.length + dn.length);
    let nbp = 0;
    let iu = 0;
    let id = 0;
    while (iu < up.length || id < dn.length) {
      const x = id >= dn.length || (iu < up.length && up[iu] <= dn[id]) ? up[iu++] : dn[id++];
      if (nbp === 0 || bp[nbp - 1] !== x) bp[nbp++] = x;
    }
    const row = y * vw;
    let cu = 0; // run index into up / dn, advanced monotonically (inlined: no closures per row)
    let cd = 0;
    for (let n = 0; n < nbp; n++) {
      const x = bp[n];
      // The 2×2 pixels around vertex (x, y): a NW, b NE, c SW, d SE; a/c at x − 1, then b/d at x.
      while (cu < up.length && up[cu + 1] <= x - 1) cu += 2;
      const a = cu < up.length && up[cu] <= x - 1 ? 1 : 0;
      while (cd < dn.length && dn[cd + 1] <= x - 1) cd += 2;
      const c = cd < dn.length && dn[cd] <= x - 1 ? 1 : 0;
      while (cu < up.length && up[cu + 1] <= x) cu += 2;
      const b = cu < up.length && up[cu] <= x ? 1 : 0;
      while (cd < dn.length && dn[cd + 1] <= x) cd += 2;
      const d = cd < dn.length && dn[cd] <= x ? 1 : 0;
      let bits = 0;
      if (d && !b) bits |= 1; // top edge of SE pixel, walking east
      if (c && !d) bits |= 2; // right edge of SW pixel, walking south
      if (a && !c) bits |= 4; // bottom edge of NW pixel, walking west
      if (b && !a) bits |= 8; // left edge of NE pixel, walking north
      const v = row + x - xMin;
      if (bits) {
        out[v] = bits;
        starts.push(v);
        if (bits === 5 || bits === 10) saddles.add(v);
      }
      // Between this breakpoint and the next both rows are constant: b above, d below.
      if (n + 1 < nbp && b !== d) out.fill(d ? 1 : 4, v + 1, row + bp[n + 1] - xMin);
    }
  }
  const loops: Loop[] = [];
  for (const v0 of starts) {
    while (out[v0] !== 0) {
      const startDir = lowestBit(out[v0]);
      let nb = 0;
      let x = v0 % vw;
      let y = ((v0 - x) / vw) | 0;
      let dir = startDir;
      let prevDir = -1;
      for (;;) {
        const v = x + y * vw;
        out[v] &= ~(1 << dir);
        if (dir !== prevDir) {
          if (nb + 2 > loopBuffer.length) loopBuffer = growInt32(loopBuffer);
          loopBuffer[nb++] = x + xMin;
          loopBuffer[nb++] = y + y0;
        }
        prevDir = dir;
        x += DX[dir];
        y += DY[dir];
        const nv = x + y * vw;
        // Saddle (two outgoing edges): turn right; otherwise the single outgoing edge.
        const saddle = saddles.size > 0 && saddles.has(nv);
        if (nv === v0 && (!saddle || ((dir + 1) & 3) === startDir)) {
          break;
        }
        dir = saddle ? (dir + 1) & 3 : lowestBit(out[nv]);
      }
      // Closing: drop the start vertex if it lies mid-way along a straight run.
      const xy = loopBuffer.slice(startDir === prevDir ? 2 : 0, nb);
      loops.push({ xy, area: shoelace(xy) });
    }
  }
  return loops;
}

const NO_RUNS: readonly number[] = [];
/**
 * Scratch space reused between calls (tracing is synchronous). Not plain arrays emptied with
 * `length = 0`: that frees their storage, and regrowing it every row was most of an RTSTRUCT's garbage.
 */
let breakpoints: Int32Array = new Int32Array(64);
let loopBuffer: Int32Array = new Int32Array(1024);
let grid: Uint8Array = new Uint8Array(0);

function scratchBreakpoints(n: number): Int32Array {
  if (breakpoints.length < n) breakpoints = new Int32Array(Math.max(n, breakpoints.length * 2));
  return breakpoints;
}

function growInt32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** A zeroed grid of at least n cells, reused between calls. */
function scratchGrid(n: number): Uint8Array {
  if (grid.length < n) grid = new Uint8Array(Math.max(n, grid.length * 2));
  else grid.fill(0, 0, n); // the walk clears every bit it set; zeroing anyway costs a memset per slice
  return grid;
}

function lowestBit(bits: number): number {
  if (bits & 1) return 0;
  if (bits & 2) return 1;
  if (bits & 4) return 2;
  return 3;
}

function shoelace(xy: ArrayLike<number>): number {
  const n = xy.length / 2;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    s += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
  }
  return s / 2;
}

/**
 * Corner loop → the loop through the MIDPOINTS of its boundary pixel edges (what marching squares at
 * threshold 0.5 gives). Vertices stay on pixel edges; every pixel centre is ≥ √2/4 ≈ 0.354 px from
 * the result, on the same side as before, so centre-sampling rasterisers give back the same mask.
 * Pixel staircases become straight diagonals (45° runs are collinear and vanish), which keeps point
 * counts low; the area shrinks by only ½ px² per loop (convex and concave corners cancel).
 */
export function cutCorners(xy: ArrayLike<number>): Float64Array {
  const n = xy.length / 2;
  const pts = scratchPoints(0, 4 * n);
  let m = 0;
  const push = (x: number, y: number): void => {
    if (m >= 2 && pts[m - 2] === x && pts[m - 1] === y) return;
    pts[m++] = x;
    pts[m++] = y;
  };
  for (let i = 0; i < n; i++) {
    const p = (i + n - 1) % n;
    const q = (i + 1) % n;
    const x = xy[2 * i];
    const y = xy[2 * i + 1];
    const inx = Math.sign(x - xy[2 * p]);
    const iny = Math.sign(y - xy[2 * p + 1]);
    const outx = Math.sign(xy[2 * q] - x);
    const outy = Math.sign(xy[2 * q + 1] - y);
    push(x - 0.5 * inx, y - 0.5 * iny);
    push(x + 0.5 * outx, y + 0.5 * outy);
  }
  if (m >= 4 && pts[0] === pts[m - 2] && pts[1] === pts[m - 1]) m -= 2;
  return dropCollinear(m);
}

/** Two point buffers reused between calls (synchronous): dropCollinear passes go from one to the other. */
const pointBuffers: Float64Array[] = [new Float64Array(1024), new Float64Array(1024)];

function scratchPoints(which: 0 | 1, n: number): Float64Array {
  if (pointBuffers[which].length < n) pointBuffers[which] = new Float64Array(Math.max(n, pointBuffers[which].length * 2));
  return pointBuffers[which];
}

/**
 * Remove vertices lying exactly on the line through their neighbours (coordinates are multiples of
 * ½), from the first `m` values of point buffer 0; repeated until nothing changes.
 */
function dropCollinear(m: number): Float64Array {
  let src = 0 as 0 | 1;
  let len = m;
  for (;;) {
    const cur = pointBuffers[src];
    const n = len / 2;
    if (n <= 3) return cur.slice(0, len);
    const dst = (1 - src) as 0 | 1;
    const next = scratchPoints(dst, len);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const p = (i + n - 1) % n;
      const q = (i + 1) % n;
      const ax = cur[2 * i] - cur[2 * p];
      const ay = cur[2 * i + 1] - cur[2 * p + 1];
      const bx = cur[2 * q] - cur[2 * i];
      const by = cur[2 * q + 1] - cur[2 * i + 1];
      // Collinear and same direction (a reversal would be a spike; keep it).
      if (ax * by - ay * bx === 0 && ax * bx + ay * by > 0) continue;
      next[w++] = cur[2 * i];
      next[w++] = cur[2 * i + 1];
    }
    if (w === len) return cur.slice(0, len);
    src = dst;
    len = w;
  }
}
