/**
 * RTSTRUCT contours → binary masks on a given volume's grid (e.g. clinicians' contours for
 * fine-tuning, or checking our own output). Each CLOSED_PLANAR contour is placed on the slice whose
 * plane it lies in (by its coordinates; references are checked and reported, not trusted), and the
 * contours of one ROI on one slice are filled together with the even-odd rule, so inner contours
 * are holes (the convention our writer uses; plastimatch's --xor-contours does the same).
 */
import type { Vec3, Volume, VolumeGeometry } from '../../core/volume.ts';
import { fillEvenOdd } from '../../geometry/contours/fill.ts';
import type { Rtstruct, RtstructProblem } from './read.ts';

export interface RtstructMasks {
  /** ROI name → mask (1 inside) on the volume's grid, x-fastest like Volume.data. */
  readonly labels: Map<string, Uint8Array>;
  readonly problems: RtstructProblem[];
}

/** How far (in slices) a contour may sit off a slice plane and still count as on it. */
const PLANE_TOLERANCE = 0.05;

export function rtstructToLabelMap(rtss: Rtstruct, volume: Volume): RtstructMasks {
  const [nx, ny, nz] = volume.dims;
  const patientToIndex = inverseGeometry(volume);
  const problems: RtstructProblem[] = [];
  const labels = new Map<string, Uint8Array>();
  const sliceOf = new Map<string, number[]>();
  volume.meta.slices.forEach((s, k) => {
    const list = sliceOf.get(s.sopInstanceUid) ?? [];
    list.push(k);
    sliceOf.set(s.sopInstanceUid, list);
  });
  if (rtss.referencedSeriesUids.length > 0 && !rtss.referencedSeriesUids.includes(volume.meta.seriesInstanceUid)) {
    problems.push({
      code: 'SERIES_MISMATCH',
      message: `structure set was drawn on series ${rtss.referencedSeriesUids.join(', ')}, the volume is series ${volume.meta.seriesInstanceUid}`,
    });
  }
  const missing = rtss.referencedImageUids.filter((u) => !sliceOf.has(u));
  if (missing.length > 0) {
    problems.push({
      code: 'NON_EXISTENT_REFERENCE',
      message: `${missing.length} of the ${rtss.referencedImageUids.length} images the structure set references are not in this volume (first: ${missing[0]})`,
    });
  }
  for (const roi of rtss.rois) {
    const key = labels.has(roi.name) ? `${roi.name} (${roi.number})` : roi.name;
    const mask = new Uint8Array(nx * ny * nz);
    labels.set(key, mask);
    if (roi.frameOfReferenceUid && roi.frameOfReferenceUid !== volume.meta.frameOfReferenceUid) {
      problems.push({
        code: 'FRAME_OF_REFERENCE_MISMATCH',
        roi: roi.name,
        message: `ROI '${roi.name}' is in frame of reference ${roi.frameOfReferenceUid}, the volume in ${volume.meta.frameOfReferenceUid}: not filled`,
      });
      continue;
    }
    const bySlice = new Map<number, number[][]>();
    roi.contours.forEach((c, n) => {
      if (c.type !== 'CLOSED_PLANAR' || c.points.length < 3) return; // reported by the reader
      const xy: number[] = [];
      let kSum = 0;
      let kMin = Infinity;
      let kMax = -Infinity;
      for (const p of c.points) {
        const [i, j, k] = patientToIndex(p);
        xy.push(i, j);
        kSum += k;
        kMin = Math.min(kMin, k);
        kMax = Math.max(kMax, k);
      }
      const k = Math.round(kSum / c.points.length);
      const ref = c.referencedSopInstanceUid;
      const refSlices = ref === undefined ? undefined : sliceOf.get(ref);
      if (ref !== undefined && !refSlices) {
        problems.push({ code: 'NON_EXISTENT_REFERENCE', roi: roi.name, message: `ROI '${roi.name}' contour ${n + 1} references image ${ref}, which is not in this volume` });
      }
      if (!Number.isFinite(k) || kMax - kMin > 2 * PLANE_TOLERANCE || Math.abs(kSum / c.points.length - k) > PLANE_TOLERANCE || k < 0 || k >= nz) {
        problems.push({
          code: 'NOT_ON_A_SLICE',
          roi: roi.name,
          message: `ROI '${roi.name}' contour ${n + 1} (slice index ${(kSum / c.points.length).toFixed(2)}) does not lie on a slice of this volume: not filled`,
        });
        return;
      }
      if (refSlices && !refSlices.includes(k)) {
        problems.push({
          code: 'INVALID_REFERENCE',
          roi: roi.name,
          message: `ROI '${roi.name}' contour ${n + 1} references image ${ref} but lies on slice ${k} (${volume.meta.slices[k].sopInstanceUid}); placed by its coordinates`,
        });
      }
      const list = bySlice.get(k) ?? [];
      list.push(xy);
      bySlice.set(k, list);
    });
    for (const [k, polys] of bySlice) fillEvenOdd(polys, nx, ny, mask.subarray(k * nx * ny, (k + 1) * nx * ny));
  }
  return { labels, problems: summarise(problems) };
}

/**
 * Patient (LPS) → continuous voxel index by the full inverse of the index → patient matrix, so a
 * gantry-tilted stack (slice direction not normal to the image plane) maps back correctly too.
 */
function inverseGeometry(g: VolumeGeometry): (p: Vec3) => [number, number, number] {
  const [r, c, s] = g.direction;
  const m = [0, 1, 2].map((a) => [r[a] * g.spacing[0], c[a] * g.spacing[1], s[a] * g.spacing[2]]);
  const [[a, b, cc], [d, e, f], [gg, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * gg);
  const C = d * h - e * gg;
  const det = a * A + b * B + cc * C;
  const inv = [
    [A / det, -(b * i - cc * h) / det, (b * f - cc * e) / det],
    [B / det, (a * i - cc * gg) / det, -(a * f - cc * d) / det],
    [C / det, -(a * h - b * gg) / det, (a * e - b * d) / det],
  ];
  const o = g.origin;
  return (p) => {
    const x = p[0] - o[0];
    const y = p[1] - o[1];
    const z = p[2] - o[2];
    return [
      inv[0][0] * x + inv[0][1] * y + inv[0][2] * z,
      inv[1][0] * x + inv[1][1] * y + inv[1][2] * z,
      inv[2][0] * x + inv[2][1] * y + inv[2][2] * z,
    ];
  };
}

/** One problem per (code, ROI): a structure set on a partial series would otherwise list hundreds. */
function summarise(problems: RtstructProblem[]): RtstructProblem[] {
  const groups = new Map<string, { first: RtstructProblem; count: number }>();
  for (const p of problems) {
    const key = `${p.code}\u0000${p.roi ?? ''}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { first: p, count: 1 });
  }
  return [...groups.values()].map(({ first, count }) =>
    count === 1 ? first : { ...first, message: `${first.message} (and ${count - 1} more contour(s) like it)` },
  );
}
