/**
 * What the writers need to be true of the geometry before they put a label map into DICOM, refused
 * with a clear DfaError otherwise. Contours and SEG frames are placed with indexToPatient, so they
 * are right for oblique and gantry-tilted stacks as long as the volume's geometry reproduces every
 * slice's ImagePositionPatient — which is what is checked here.
 */
import { DfaError } from '../../core/errors.ts';
import type { LabelMap, Vec3, VolumeGeometry, VolumeInfo } from '../../core/volume.ts';
import { isValidUid } from '../../core/uid.ts';
import { indexToPatient } from '../../core/volume.ts';

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

export function checkSliceGeometry(volume: VolumeInfo, labels: VolumeGeometry | LabelMap): void {
  const bad = (why: string): DfaError =>
    new DfaError('DICOM_BAD_GEOMETRY', `cannot write contours for series ${volume.meta.seriesInstanceUid}: ${why}`, {
      details: { seriesInstanceUid: volume.meta.seriesInstanceUid },
    });
  const meta = volume.meta;
  // Every UID we copy into a reference must be valid; a missing Frame of Reference (Type 1 in CT,
  // PS3.3 C.7.4.1) leaves the contours without a patient space, so it is refused, not invented.
  for (const [what, uid] of [
    ['StudyInstanceUID', meta.studyInstanceUid],
    ['SeriesInstanceUID', meta.seriesInstanceUid],
    ['FrameOfReferenceUID', meta.frameOfReferenceUid],
  ] as const) {
    if (!isValidUid(uid ?? '')) throw bad(`source series has no valid ${what} ('${uid ?? ''}')`);
  }
  const badSlice = meta.slices.find((s) => !isValidUid(s.sopInstanceUid) || !isValidUid(s.sopClassUid));
  if (badSlice) throw bad(`slice reference has an invalid SOP Instance / Class UID ('${badSlice.sopInstanceUid}')`);
  const [nx, ny, nz] = volume.dims;
  if (labels.dims[0] !== nx || labels.dims[1] !== ny || labels.dims[2] !== nz) {
    throw bad(`label map is ${labels.dims.join('×')}, the volume ${volume.dims.join('×')}`);
  }
  for (let a = 0; a < 3; a++) {
    if (Math.abs(labels.spacing[a] - volume.spacing[a]) > 1e-4 || Math.abs(labels.origin[a] - volume.origin[a]) > 1e-3) {
      throw bad('label map and volume are on different grids');
    }
    for (let b = 0; b < 3; b++) {
      if (Math.abs(labels.direction[a][b] - volume.direction[a][b]) > 1e-6) throw bad('label map and volume have different orientations');
    }
  }
  const [r, c, s] = volume.direction;
  if (Math.abs(dot(r, r) - 1) > 1e-4 || Math.abs(dot(c, c) - 1) > 1e-4 || Math.abs(dot(r, c)) > 1e-4) {
    throw bad('ImageOrientationPatient row and column directions are not orthonormal');
  }
  if (Math.abs(dot(s, s) - 1) > 1e-4) throw bad('slice direction is not a unit vector');
  if (volume.meta.slices.length !== nz) throw bad(`${nz} slices in the volume but ${volume.meta.slices.length} slice references`);
  // Each slice must sit where the geometry says (PS3.3 C.7.6.2.1.1); a tolerance of 1% of a voxel.
  const tol = 0.01 * Math.max(Math.min(volume.spacing[0], volume.spacing[1], volume.spacing[2]), 0.1);
  for (let k = 0; k < nz; k++) {
    const want = indexToPatient(volume, 0, 0, k);
    const got = volume.meta.slices[k].position;
    const d = Math.hypot(want[0] - got[0], want[1] - got[1], want[2] - got[2]);
    if (!(d <= tol)) {
      throw bad(`slice ${k} (${volume.meta.slices[k].sopInstanceUid}) is ${d.toFixed(3)} mm from where the volume geometry puts it (irregular spacing?)`);
    }
  }
}
