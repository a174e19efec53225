import { indexToPatient, patientToIndex, type LabelMap, type Vec3, type Volume, type VolumeGeometry } from '../../core/volume.ts';

/**
 * Views in the radiological display convention, whatever the scan's orientation (HFS, FFS, HFP,
 * oblique): the plane is resampled on axes fixed in the patient (LPS), so
 * - axial: viewer's right = patient's left (+x), down = posterior (+y), seen from the feet;
 * - coronal: viewer's right = patient's left (+x), up = superior (+z), seen from the front;
 * - sagittal: viewer's left = anterior (−y), up = superior (+z), seen from the patient's left.
 */
export type ViewName = 'axial' | 'coronal' | 'sagittal';

interface ViewAxes {
  /** Patient direction of increasing image column (u) and row (v). */
  readonly u: Vec3;
  readonly v: Vec3;
  /** Patient axis the plane is fixed on (0 = x, 1 = y, 2 = z). */
  readonly normalAxis: 0 | 1 | 2;
  /** Letters at the left, right, top and bottom edges. */
  readonly letters: readonly [string, string, string, string];
}

export const VIEW_AXES: Record<ViewName, ViewAxes> = {
  axial: { u: [1, 0, 0], v: [0, 1, 0], normalAxis: 2, letters: ['R', 'L', 'A', 'P'] },
  coronal: { u: [1, 0, 0], v: [0, 0, -1], normalAxis: 1, letters: ['R', 'L', 'S', 'I'] },
  sagittal: { u: [0, 1, 0], v: [0, 0, -1], normalAxis: 0, letters: ['A', 'P', 'S', 'I'] },
};

/** Patient-space bounding box of the volume, voxel edges included. */
export function patientBounds(g: VolumeGeometry): { min: Vec3; max: Vec3 } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (const i of [-0.5, g.dims[0] - 0.5]) {
    for (const j of [-0.5, g.dims[1] - 0.5]) {
      for (const k of [-0.5, g.dims[2] - 0.5]) {
        const p = indexToPatient(g, i, j, k);
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a], p[a]);
          max[a] = Math.max(max[a], p[a]);
        }
      }
    }
  }
  return { min: min as unknown as Vec3, max: max as unknown as Vec3 };
}

export interface ResampledPlane {
  readonly view: ViewName;
  readonly width: number;
  readonly height: number;
  /** Display pixel size (mm), the same along both axes. */
  readonly mmPerPixel: number;
  /** Hounsfield units per display pixel; outside the scan = −1024. */
  readonly hu: Float32Array;
  /** Label value per display pixel (0 outside the scan). */
  readonly labels: Uint8Array;
}

/**
 * Resamples the plane through patient point `at` (nearest neighbour: previews show the voxels as
 * they are, and the contour of a label is exactly the boundary of its voxels). The long side of the
 * image is `maxSide` pixels; pixels are square in millimetres.
 */
export function resamplePlane(volume: Volume, labels: LabelMap | undefined, view: ViewName, at: Vec3, maxSide = 512): ResampledPlane {
  const ax = VIEW_AXES[view];
  const { min, max } = patientBounds(volume);
  const dot = (a: Vec3, b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const extent = (d: Vec3) => Math.abs(dot(d, [max[0] - min[0], max[1] - min[1], max[2] - min[2]]));
  const extU = extent(ax.u);
  const extV = extent(ax.v);
  const mm = Math.max(extU, extV) / maxSide;
  const width = Math.max(1, Math.round(extU / mm));
  const height = Math.max(1, Math.round(extV / mm));
  // Top-left corner of the plane: the smallest coordinate along a positive axis, the largest along a negative one.
  const start = [0, 1, 2].map((a) => (a === ax.normalAxis ? at[a] : (ax.u[a] + ax.v[a] > 0 ? min[a] : max[a])));
  const p0: Vec3 = [0, 1, 2].map((a) => start[a] + 0.5 * mm * (ax.u[a] + ax.v[a])) as unknown as Vec3;
  const i0 = patientToIndex(volume, p0);
  const iu = patientToIndex(volume, [p0[0] + mm * ax.u[0], p0[1] + mm * ax.u[1], p0[2] + mm * ax.u[2]]).map((x, a) => x - i0[a]);
  const iv = patientToIndex(volume, [p0[0] + mm * ax.v[0], p0[1] + mm * ax.v[1], p0[2] + mm * ax.v[2]]).map((x, a) => x - i0[a]);

  const [nx, ny, nz] = volume.dims;
  const hu = new Float32Array(width * height).fill(-1024);
  const lab = new Uint8Array(width * height);
  const src = volume.data;
  const ldata = labels?.data;
  for (let y = 0; y < height; y++) {
    const ri = i0[0] + y * iv[0];
    const rj = i0[1] + y * iv[1];
    const rk = i0[2] + y * iv[2];
    for (let x = 0; x < width; x++) {
      const i = Math.round(ri + x * iu[0]);
      const j = Math.round(rj + x * iu[1]);
      const k = Math.round(rk + x * iu[2]);
      if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) continue;
      const idx = i + nx * (j + ny * k);
      hu[y * width + x] = src[idx];
      if (ldata) lab[y * width + x] = ldata[idx];
    }
  }
  return { view, width, height, mmPerPixel: mm, hu, labels: lab };
}

/** Voxel count and centroid (patient mm) of each label value present. */
export interface LabelCentroid {
  readonly voxels: number;
  readonly centroid: Vec3;
}

/**
 * Per label value: voxel count and centroid, estimated on a lattice of every `stride`-th voxel
 * along each axis, with `stride` chosen so at most ~4 M voxels are read (exact on small volumes).
 * The centroid only chooses where the preview cuts; reading all 80 M voxels of a 512×512×300 CT
 * took longer than the rest of the rendering. Counts are scaled back to whole-volume voxels.
 */
export function labelCentroids(labels: LabelMap, maxSamples = 4_000_000): Map<number, LabelCentroid> {
  const [nx, ny, nz] = labels.dims;
  const stride = Math.max(1, Math.ceil(Math.cbrt((nx * ny * nz) / maxSamples)));
  const d = labels.data;
  const n = new Float64Array(256);
  const si = new Float64Array(256);
  const sj = new Float64Array(256);
  const sk = new Float64Array(256);
  for (let k = 0; k < nz; k += stride) {
    for (let j = 0; j < ny; j += stride) {
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i += stride) {
        const v = d[row + i];
        if (v === 0) continue;
        n[v]++;
        si[v] += i;
        sj[v] += j;
        sk[v] += k;
      }
    }
  }
  const scale = stride ** 3;
  const out = new Map<number, LabelCentroid>();
  for (let v = 1; v < 256; v++) {
    if (n[v] > 0) out.set(v, { voxels: n[v] * scale, centroid: indexToPatient(labels, si[v] / n[v], sj[v] / n[v], sk[v] / n[v]) });
  }
  return out;
}

/** Centroid of several labels together (weighted by size), or the volume's centre when none is present. */
export function combinedCentroid(g: VolumeGeometry, stats: Map<number, LabelCentroid>, values: readonly number[]): Vec3 {
  let n = 0;
  const c = [0, 0, 0];
  for (const v of values) {
    const s = stats.get(v);
    if (!s) continue;
    n += s.voxels;
    for (let a = 0; a < 3; a++) c[a] += s.centroid[a] * s.voxels;
  }
  if (n === 0) return indexToPatient(g, (g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2);
  return [c[0] / n, c[1] / n, c[2] / n];
}
