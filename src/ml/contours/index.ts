/**
 * Label map → per-slice closed planar contours in patient coordinates (LPS, mm).
 *
 * Holes: RTSTRUCT has no hole flag (PS3.3 C.8.8.6), so a hole is written as a separate closed contour
 * inside its outer contour on the same slice ("separate contours" convention, not keyholes). Readers
 * fill the contours of one slice with the even-odd rule / XOR (plastimatch does this; so does our
 * reader, src/dicom/rtstruct/to-labelmap.ts), so the inner contour punches the hole. Islands are
 * simply further outer contours.
 */
import { DfaError } from '../../core/errors.ts';
import type { LabelMap, Vec3, VolumeGeometry } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { DEFAULT_TOLERANCE_PX, MAX_EXACT_TOLERANCE_PX, simplifyClosed } from './simplify.ts';
import { cutCorners, traceLoops } from './trace.ts';

export { DEFAULT_TOLERANCE_PX, MAX_EXACT_TOLERANCE_PX } from './simplify.ts';

export interface PlanarContour {
  /** k index of the slice the contour lies on. */
  readonly slice: number;
  /** LPS mm, interleaved [x0, y0, z0, x1, …]; closed implicitly (CLOSED_PLANAR, last ≠ first). */
  readonly points: Float64Array;
  /** True for an inner (hole) contour. */
  readonly hole: boolean;
}

export interface ContourOptions {
  /** Douglas–Peucker tolerance in pixels; 0 keeps every vertex. Must be < √2/4 px to stay exact. */
  readonly tolerancePx?: number;
  /**
   * 'midpoints' (default): vertices at the midpoints of boundary pixel edges (marching squares),
   * staircases become diagonals. 'corners': vertices at pixel corners, polygon area = voxel count
   * exactly, but many more points (and simplification can do little).
   */
  readonly vertices?: 'midpoints' | 'corners';
}

/** Bounding box of each label value per slice, from one pass over the label map. */
interface SliceBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Contours of every voxel equal to `value`. Slices without the label give no contours.
 * The tolerance must be below √2/4 px (see simplify.ts) or the mask would not round-trip.
 */
export function labelContours(labels: LabelMap, value: number, opts: ContourOptions = {}): PlanarContour[] {
  return contoursByLabel(labels, [value], opts).get(value) ?? [];
}

/** Contours for several label values in one pass over the label map. */
export function contoursByLabel(
  labels: LabelMap,
  values: readonly number[],
  opts: ContourOptions = {},
): Map<number, PlanarContour[]> {
  const tol = opts.tolerancePx ?? DEFAULT_TOLERANCE_PX;
  const corners = opts.vertices === 'corners';
  // Corner polygons pass pixel centres at 0.5 px, cut-corner ones at √2/4 px (see simplify.ts).
  const maxTol = corners ? 0.5 : MAX_EXACT_TOLERANCE_PX;
  if (!(tol >= 0 && tol < maxTol)) {
    throw new DfaError('INTERNAL', `contour tolerance must be in [0, ${maxTol.toFixed(3)}) pixels, got ${tol}`);
  }
  const [nx, ny, nz] = labels.dims;
  if (labels.data.length !== nx * ny * nz) {
    throw new DfaError('INTERNAL', `label map has ${labels.data.length} voxels, dims say ${nx * ny * nz}`);
  }
  const wanted = new Int16Array(256).fill(-1);
  values.forEach((v, idx) => (wanted[v] = idx));
  const boxes = sliceBoxes(labels.data, nx, ny, nz, wanted, values.length);
  const result = new Map<number, PlanarContour[]>(values.map((v) => [v, []]));
  for (let li = 0; li < values.length; li++) {
    const value = values[li];
    const list = result.get(value)!;
    for (let k = 0; k < nz; k++) {
      const b = boxes[li][k];
      if (!b) continue;
      // Copy the label's bounding box (plus nothing: the tracer treats outside as background).
      const w = b.x1 - b.x0 + 1;
      const h = b.y1 - b.y0 + 1;
      const mask = new Uint8Array(w * h);
      const off = k * nx * ny;
      for (let y = 0; y < h; y++) {
        const row = off + (y + b.y0) * nx + b.x0;
        for (let x = 0; x < w; x++) if (labels.data[row + x] === value) mask[x + y * w] = 1;
      }
      for (const loop of traceLoops(mask, w, h)) {
        const xy = simplifyClosed(corners ? loop.xy : cutCorners(loop.xy), tol);
        list.push({ slice: k, points: toPatient(labels, xy, b.x0, b.y0, k), hole: loop.area < 0 });
      }
    }
  }
  return result;
}

function sliceBoxes(
  data: Uint8Array,
  nx: number,
  ny: number,
  nz: number,
  wanted: Int16Array,
  nLabels: number,
): (SliceBox | undefined)[][] {
  const boxes: (SliceBox | undefined)[][] = Array.from({ length: nLabels }, () => new Array<SliceBox | undefined>(nz));
  for (let k = 0; k < nz; k++) {
    const off = k * nx * ny;
    for (let y = 0; y < ny; y++) {
      const row = off + y * nx;
      for (let x = 0; x < nx; x++) {
        const v = data[row + x];
        if (v === 0) continue;
        const li = wanted[v];
        if (li < 0) continue;
        const b = boxes[li][k];
        if (!b) boxes[li][k] = { x0: x, y0: y, x1: x, y1: y };
        else {
          if (x < b.x0) b.x0 = x;
          if (x > b.x1) b.x1 = x;
          if (y < b.y0) b.y0 = y;
          if (y > b.y1) b.y1 = y;
        }
      }
    }
  }
  return boxes;
}

/** Pixel-edge vertex (x, y) of a box at (x0, y0) → LPS mm; edge = voxel index − 0.5. */
function toPatient(g: VolumeGeometry, xy: ArrayLike<number>, x0: number, y0: number, k: number): Float64Array {
  const n = xy.length / 2;
  const pts = new Float64Array(n * 3);
  const o: Vec3 = indexToPatient(g, 0, 0, k);
  const r = g.direction[0];
  const c = g.direction[1];
  const sx = g.spacing[0];
  const sy = g.spacing[1];
  for (let i = 0; i < n; i++) {
    const a = (xy[2 * i] + x0 - 0.5) * sx;
    const bb = (xy[2 * i + 1] + y0 - 0.5) * sy;
    pts[3 * i] = o[0] + a * r[0] + bb * c[0];
    pts[3 * i + 1] = o[1] + a * r[1] + bb * c[1];
    pts[3 * i + 2] = o[2] + a * r[2] + bb * c[2];
  }
  return pts;
}
