/**
 * Label map → per-slice closed planar contours in patient coordinates (LPS, mm).
 *
 * Holes: RTSTRUCT has no hole flag (PS3.3 C.8.8.6). By default each hole is joined to its outer
 * contour by a zero-width "keyhole" bridge (keyhole.ts), so one contour per island carries its holes
 * and every reader gets them right: those that OR a slice's contours (plastimatch's default) and
 * those that use even-odd / XOR (plastimatch --xor-contours, our reader). With holes: 'separate' a
 * hole is its own inner contour instead, which needs an even-odd / XOR reader. Islands are simply
 * further outer contours.
 */
import { DfaError } from '../../core/errors.ts';
import type { LabelMap, Vec3, VolumeGeometry } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import { DEFAULT_TOLERANCE_PX, MAX_EXACT_TOLERANCE_PX, simplifyClosed } from './simplify.ts';
import { mergeHoles } from './keyhole.ts';
import { labelRuns } from './runs.ts';
import { cutCorners, traceRuns } from './trace.ts';

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
  /**
   * 'keyhole' (default): each hole is joined to its outer contour by a zero-width bridge, one
   * contour per island, right for readers that OR the contours of a slice as well as for even-odd
   * / XOR readers. 'separate': holes are contours of their own (needs an even-odd / XOR reader).
   */
  readonly holes?: 'keyhole' | 'separate';
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
  const keyhole = (opts.holes ?? 'keyhole') === 'keyhole';
  // Corner polygons pass pixel centres at 0.5 px, cut-corner ones at √2/4 px (see simplify.ts).
  const maxTol = corners ? 0.5 : MAX_EXACT_TOLERANCE_PX;
  if (!(tol >= 0 && tol < maxTol)) {
    throw new DfaError('INTERNAL', `contour tolerance must be in [0, ${maxTol.toFixed(3)}) pixels, got ${tol}`);
  }
  const [nx, ny, nz] = labels.dims;
  if (labels.data.length !== nx * ny * nz) {
    throw new DfaError('INTERNAL', `label map has ${labels.data.length} voxels, dims say ${nx * ny * nz}`);
  }
  const runs = labelRuns(labels.data, labels.dims, values);
  const result = new Map<number, PlanarContour[]>(values.map((v) => [v, []]));
  values.forEach((value, li) => {
    const list = result.get(value)!;
    for (const sr of runs[li]) {
      const rings = traceRuns(sr.rows, sr.y0, sr.xMin, sr.xMax).map((loop) => ({
        xy: simplifyClosed(corners ? loop.xy : cutCorners(loop.xy), tol),
        area: loop.area,
      }));
      if (keyhole && rings.some((r) => r.area < 0)) {
        for (const xy of mergeHoles(rings)) list.push({ slice: sr.k, points: toPatient(labels, xy, 0, 0, sr.k), hole: false });
      } else {
        for (const r of rings) list.push({ slice: sr.k, points: toPatient(labels, r.xy, 0, 0, sr.k), hole: r.area < 0 });
      }
    }
  });
  return result;
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
