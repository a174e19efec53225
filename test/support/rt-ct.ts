/**
 * Test helpers for the RT writers: the CT grid and slice references of a DICOM series (geometry only,
 * pixels are not needed to write contours), a synthetic volume for oblique cases, and NIfTI masks
 * resampled onto a volume's grid (RAS → LPS). Kept minimal on purpose; the product's loader is
 * src/dicom/volume.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dcmjs } from '../../src/dicom/parse/dcmjs.ts';
import type { LabelMap, SliceRef, Vec3, Volume, VolumeGeometry, VolumeMeta } from '../../src/core/volume.ts';
import { cross, indexToPatient } from '../../src/core/volume.ts';

const num = (v: unknown): number => Number(v);

/** Geometry + meta of the single-frame images in a directory (other objects skipped); data is zero-filled. */
export async function loadCtGeometry(dir: string): Promise<Volume> {
  const { DicomMessage, DicomMetaDictionary } = dcmjs().data;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.dcm')).sort();
  const slices: { ds: Record<string, any>; pos: Vec3 }[] = [];
  for (const f of files) {
    const buf = await readFile(join(dir, f));
    const d = DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, {
      untilTag: '7FE00010',
    });
    const ds = DicomMetaDictionary.naturalizeDataset(d.dict) as Record<string, any>;
    if (!Array.isArray(ds.ImagePositionPatient)) continue; // RTSTRUCT / RTPLAN beside the images
    slices.push({ ds, pos: (ds.ImagePositionPatient as unknown[]).map(num) as unknown as Vec3 });
  }
  const first = slices[0].ds;
  const iop = (first.ImageOrientationPatient as unknown[]).map(num);
  const rowDir: Vec3 = [iop[0], iop[1], iop[2]];
  const colDir: Vec3 = [iop[3], iop[4], iop[5]];
  const normal = cross(rowDir, colDir);
  const along = (p: Vec3) => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
  slices.sort((a, b) => along(a.pos) - along(b.pos));
  const nz = slices.length;
  const last = slices[nz - 1].pos;
  const o = slices[0].pos;
  const span = Math.hypot(last[0] - o[0], last[1] - o[1], last[2] - o[2]);
  const dz = nz > 1 ? span / (nz - 1) : num(first.SliceThickness ?? 1);
  const sliceDir: Vec3 = nz > 1 ? [(last[0] - o[0]) / span, (last[1] - o[1]) / span, (last[2] - o[2]) / span] : normal;
  const ps = (first.PixelSpacing as unknown[]).map(num);
  const geometry: VolumeGeometry = {
    dims: [num(first.Columns), num(first.Rows), nz],
    spacing: [ps[1], ps[0], dz],
    origin: o,
    direction: [rowDir, colDir, sliceDir],
  };
  const refs: SliceRef[] = slices.map((s) => ({
    sopInstanceUid: String(s.ds.SOPInstanceUID),
    sopClassUid: String(s.ds.SOPClassUID),
    position: s.pos,
  }));
  const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'object' ? String((v as any)[0]?.Alphabetic ?? '') : String(v));
  const meta: VolumeMeta = {
    studyInstanceUid: String(first.StudyInstanceUID),
    seriesInstanceUid: String(first.SeriesInstanceUID),
    frameOfReferenceUid: str(first.FrameOfReferenceUID) ?? '',
    modality: String(first.Modality),
    patientId: String(first.PatientID ?? ''),
    patientName: str(first.PatientName) ?? '',
    patientBirthDate: str(first.PatientBirthDate),
    patientSex: str(first.PatientSex),
    studyDate: str(first.StudyDate),
    studyTime: str(first.StudyTime),
    studyId: str(first.StudyID),
    accessionNumber: str(first.AccessionNumber),
    studyDescription: str(first.StudyDescription),
    slices: refs,
  };
  return { ...geometry, data: new Int16Array(geometry.dims[0] * geometry.dims[1] * nz), meta };
}

/** A synthetic volume on any geometry (oblique included) with made-up, valid UIDs. */
export function syntheticVolume(g: VolumeGeometry, tag: string): Volume {
  const uid = (s: string) => `2.25.${BigInt('0x' + Buffer.from(tag + s).toString('hex').slice(0, 30).padEnd(30, '0')).toString(10)}`;
  const slices: SliceRef[] = Array.from({ length: g.dims[2] }, (_, k) => ({
    sopInstanceUid: `${uid('sop')}.${k + 1}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    position: indexToPatient(g, 0, 0, k),
  }));
  return {
    ...g,
    data: new Int16Array(g.dims[0] * g.dims[1] * g.dims[2]),
    meta: {
      studyInstanceUid: uid('study'),
      seriesInstanceUid: uid('series'),
      frameOfReferenceUid: uid('for'),
      modality: 'CT',
      patientId: 'PHANTOM-1',
      patientName: 'Phantom^Test',
      studyDate: '20260101',
      studyTime: '120000',
      studyId: '1',
      accessionNumber: 'ACC1',
      slices,
    },
  };
}

/**
 * A NIfTI-1 (.nii.gz) mask resampled (nearest) onto a volume's grid. NIfTI's sform/qform maps voxel
 * indices to RAS; DICOM patient space is LPS, so x and y change sign.
 */
export async function niftiMaskOnGrid(path: string, g: VolumeGeometry): Promise<Uint8Array> {
  const b = gunzipSync(await readFile(path));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getInt32(0, true) !== 348) throw new Error(`${path}: not little-endian NIfTI-1`);
  const dim = [1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, true));
  const datatype = dv.getInt16(70, true);
  const voxOffset = dv.getFloat32(108, true);
  const sformCode = dv.getInt16(254, true);
  if (sformCode <= 0) throw new Error(`${path}: no sform`);
  const srow = [280, 296, 312].map((o) => [0, 1, 2, 3].map((i) => dv.getFloat32(o + 4 * i, true)));
  // LPS affine = diag(-1,-1,1) · RAS affine; invert the 3×3 part.
  const A = [[-srow[0][0], -srow[0][1], -srow[0][2]], [-srow[1][0], -srow[1][1], -srow[1][2]], [srow[2][0], srow[2][1], srow[2][2]]];
  const t = [-srow[0][3], -srow[1][3], srow[2][3]];
  const inv = invert3(A);
  const bytesPer = datatype === 2 ? 1 : datatype === 4 || datatype === 512 ? 2 : datatype === 16 || datatype === 8 ? 4 : 0;
  if (!bytesPer) throw new Error(`${path}: unsupported datatype ${datatype}`);
  const read = (idx: number): number => {
    const off = voxOffset + idx * bytesPer;
    if (datatype === 2) return b[off];
    if (datatype === 4) return dv.getInt16(off, true);
    if (datatype === 512) return dv.getUint16(off, true);
    if (datatype === 8) return dv.getInt32(off, true);
    return dv.getFloat32(off, true);
  };
  const [nx, ny, nz] = g.dims;
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const p = indexToPatient(g, i, j, k);
        const q = [p[0] - t[0], p[1] - t[1], p[2] - t[2]];
        const a = Math.round(inv[0][0] * q[0] + inv[0][1] * q[1] + inv[0][2] * q[2]);
        const bb = Math.round(inv[1][0] * q[0] + inv[1][1] * q[1] + inv[1][2] * q[2]);
        const c = Math.round(inv[2][0] * q[0] + inv[2][1] * q[1] + inv[2][2] * q[2]);
        if (a < 0 || bb < 0 || c < 0 || a >= dim[0] || bb >= dim[1] || c >= dim[2]) continue;
        if (read(a + bb * dim[0] + c * dim[0] * dim[1]) !== 0) out[i + j * nx + k * nx * ny] = 1;
      }
  return out;
}

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Combine binary masks into one label map (later masks win where they overlap). */
export function labelMapOf(g: VolumeGeometry, masks: readonly [number, Uint8Array][]): LabelMap {
  const data = new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]);
  for (const [value, m] of masks) for (let i = 0; i < m.length; i++) if (m[i]) data[i] = value;
  return { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction, data };
}
