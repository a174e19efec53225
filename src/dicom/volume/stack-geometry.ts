import { DfaError } from '../../core/errors.ts';
import { cross, type Vec3, type VolumeGeometry } from '../../core/volume.ts';
import type { FrameInfo } from './frames.ts';

/** Tolerances: scanners write IPP/IOP as decimal strings, so allow rounding, not real differences. */
const ORIENTATION_TOL = 1e-4;
const SPACING_REL_TOL = 0.02; // 2 % slice-to-slice jitter is accepted; more is a gap or a mixed series
const DUPLICATE_TOL_MM = 1e-3;
const TILT_TOL_DEG = 0.05;

export interface StackOptions {
  /** Keep a gantry-tilted stack as a sheared grid (sliceDir not ⟂ to the slice plane) instead of refusing. */
  readonly allowTilt?: boolean;
  /** What to name in errors (series UID / folder). */
  readonly label?: string;
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: Vec3) => Math.hypot(a[0], a[1], a[2]);
const unit = (a: Vec3): Vec3 => {
  const n = norm(a);
  return [a[0] / n, a[1] / n, a[2] / n];
};
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const fmt = (v: Vec3) => `(${v.map((x) => x.toFixed(2)).join(', ')})`;

function inconsistent(label: string, reason: string, details: Record<string, unknown> = {}): DfaError {
  return new DfaError('DICOM_INCONSISTENT_SERIES', `${label}: ${reason}`, { details });
}

/**
 * Sort frames along the slice normal (PS3.3 C.7.6.2.1.1: IPP is the centre of the first voxel;
 * InstanceNumber says nothing about position) and derive the volume grid. Refuses mixed sizes,
 * orientations, pixel spacings and frames of reference, duplicate positions, gaps and tilt.
 */
export function stackGeometry(frames: readonly FrameInfo[], opts: StackOptions = {}): { geometry: VolumeGeometry; order: FrameInfo[] } {
  const label = opts.label ?? 'series';
  if (frames.length === 0) throw new DfaError('DICOM_NO_IMAGE_SERIES', `${label}: no image frames`);
  const f0 = frames[0];
  for (const f of frames) {
    if (f.rows !== f0.rows || f.columns !== f0.columns) {
      throw inconsistent(label, `mixed image sizes: ${f0.columns}×${f0.rows} (${f0.instance.source}) and ${f.columns}×${f.rows} (${f.instance.source})`);
    }
    if (f.frameOfReferenceUid !== f0.frameOfReferenceUid) throw inconsistent(label, `mixed Frame of Reference UIDs (${f.instance.source})`);
  }
  const missing = frames.find((f) => !f.position || !f.orientation || !f.pixelSpacing);
  if (missing) {
    throw new DfaError('DICOM_BAD_GEOMETRY', `${missing.instance.source}: frame ${missing.frameIndex + 1} lacks ImagePositionPatient, ImageOrientationPatient or PixelSpacing (PS3.3 C.7.6.2)`, {
      details: { file: missing.instance.source },
    });
  }
  const [r0, c0] = f0.orientation!;
  if (Math.abs(norm(r0) - 1) > 0.01 || Math.abs(norm(c0) - 1) > 0.01 || Math.abs(dot(r0, c0)) > 0.01) {
    throw new DfaError('DICOM_BAD_GEOMETRY', `${f0.instance.source}: ImageOrientationPatient is not two orthogonal unit vectors`);
  }
  const rowDir = unit(r0);
  const colDir = unit(c0);
  const normal = unit(cross(rowDir, colDir));
  for (const f of frames) {
    const [r, c] = f.orientation!;
    if (Math.max(...[0, 1, 2].map((i) => Math.max(Math.abs(r[i] - r0[i]), Math.abs(c[i] - c0[i])))) > ORIENTATION_TOL * 10) {
      throw inconsistent(label, `mixed orientations: ${fmt(r0)}/${fmt(c0)} vs ${fmt(r)}/${fmt(c)} (${f.instance.source})`);
    }
    const ps = f.pixelSpacing!;
    const ps0 = f0.pixelSpacing!;
    if (Math.abs(ps[0] - ps0[0]) > ORIENTATION_TOL || Math.abs(ps[1] - ps0[1]) > ORIENTATION_TOL) {
      throw inconsistent(label, `mixed pixel spacings: ${ps0.join('\\')} vs ${ps.join('\\')} (${f.instance.source})`);
    }
  }
  // Same SOP instance twice (retrieved twice): keep one. Different instances at one position: refuse.
  const seen = new Set<string>();
  const unique = frames.filter((f) => {
    const key = `${f.sopInstanceUid}#${f.frameIndex}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const order = unique.map((f) => ({ f, d: dot(f.position!, normal) })).sort((a, b) => a.d - b.d);
  for (let k = 1; k < order.length; k++) {
    if (order[k].d - order[k - 1].d < DUPLICATE_TOL_MM) {
      throw inconsistent(label, `two slices at the same position ${order[k].d.toFixed(3)} mm along the normal: ${order[k - 1].f.instance.source} and ${order[k].f.instance.source} (several acquisitions or phases in one series?)`);
    }
  }
  const ps0 = f0.pixelSpacing!;
  const first = order[0].f.position!;
  let sliceDir = normal;
  let sliceSpacing = f0.sliceThickness && f0.sliceThickness > 0 ? f0.sliceThickness : 1;
  if (order.length > 1) {
    const gaps = order.slice(1).map((o, k) => o.d - order[k].d);
    const sorted = [...gaps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    for (let k = 0; k < gaps.length; k++) {
      if (Math.abs(gaps[k] - median) > SPACING_REL_TOL * median + 1e-3) {
        const at = `between ${order[k].f.instance.source} and ${order[k + 1].f.instance.source}`;
        if (gaps[k] > 1.5 * median) {
          const n = Math.round(gaps[k] / median) - 1;
          throw new DfaError('DICOM_MISSING_SLICES', `${label}: gap of ${gaps[k].toFixed(2)} mm (≈${n} missing slice${n === 1 ? '' : 's'} at ${median.toFixed(2)} mm spacing) ${at}`, {
            details: { gapMm: gaps[k], spacingMm: median, missing: n },
          });
        }
        throw inconsistent(label, `non-uniform slice spacing: ${gaps[k].toFixed(3)} mm vs ${median.toFixed(3)} mm ${at}`);
      }
    }
    const last = order[order.length - 1].f.position!;
    const span = sub(last, first);
    const along = dot(span, normal);
    sliceSpacing = along / (order.length - 1);
    // Gantry tilt: slice origins drift sideways (within the slice plane) as k increases.
    const lateral = norm(sub(span, [normal[0] * along, normal[1] * along, normal[2] * along]));
    const tiltDeg = (Math.atan2(lateral, along) * 180) / Math.PI;
    if (tiltDeg > TILT_TOL_DEG) {
      if (!opts.allowTilt) {
        throw new DfaError('DICOM_BAD_GEOMETRY', `${label}: slices are sheared by ${tiltDeg.toFixed(2)}° (gantry tilt); the positions do not run along the slice normal. Resample the series or load with allowTilt`, {
          details: { tiltDeg },
        });
      }
      // Represent the tilt exactly: k steps along the true slice-to-slice vector.
      const step = norm(span) / (order.length - 1);
      sliceDir = unit(span);
      sliceSpacing = step;
    }
  }
  return {
    geometry: {
      dims: [f0.columns, f0.rows, order.length],
      spacing: [ps0[1], ps0[0], sliceSpacing], // PS3.3 C.7.6.2.1.1 PixelSpacing = [row spacing, column spacing]
      origin: first,
      direction: [rowDir, colDir, sliceDir],
    },
    order: order.map((o) => o.f),
  };
}
