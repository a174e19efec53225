import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DfaError } from '../core/errors.ts';
import { patientToIndex, voxelCount, type LabelMap, type Vec3, type VolumeGeometry } from '../core/volume.ts';

/**
 * NIfTI-1 (.nii / .nii.gz) reader and a minimal writer. NIfTI's world space is RAS; everything here
 * is converted to our one convention, DICOM LPS (negate x and y), at this edge.
 * Voxel order is NIfTI's own (i fastest), described by a VolumeGeometry whose `direction` holds the
 * unit axis vectors of i, j, k in LPS — use `niftiToVolumeGrid` to map data onto a DICOM volume.
 */
export type NiftiData = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array;

export interface NiftiImage extends VolumeGeometry {
  readonly data: NiftiData;
  readonly datatype: number;
  /** The 4×4 voxel → RAS mm matrix the file declares (sform, else qform, else pixdim). */
  readonly affineRas: readonly (readonly number[])[];
}

const DATATYPES: Record<number, { bytes: number; make: (b: ArrayBuffer, o: number, n: number) => NiftiData }> = {
  2: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  256: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  4: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  512: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  8: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  16: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

function bad(source: string, reason: string): DfaError {
  return new DfaError('MODEL_INVALID', `${source}: ${reason}`, { details: { file: source } });
}

export async function readNifti(path: string): Promise<NiftiImage> {
  return parseNifti(await readFile(path), path);
}

/** NIfTI-1 quaternion → rotation (NIfTI-1 header docs, method 2). */
function quaternAffine(dv: DataView, le: boolean, pixdim: number[]): number[][] {
  const b = dv.getFloat32(256, le);
  const c = dv.getFloat32(260, le);
  const d = dv.getFloat32(264, le);
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const qfac = pixdim[0] < 0 ? -1 : 1;
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [pixdim[1], pixdim[2], pixdim[3] * qfac];
  const off = [dv.getFloat32(268, le), dv.getFloat32(272, le), dv.getFloat32(276, le)];
  return [0, 1, 2].map((r) => [R[r][0] * s[0], R[r][1] * s[1], R[r][2] * s[2], off[r]]).concat([[0, 0, 0, 1]]);
}

export function parseNifti(input: Uint8Array, source = '<nifti>'): NiftiImage {
  let buf = input;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw bad(source, `corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (buf.length < 348) throw bad(source, 'too short for a NIfTI-1 header');
  const copy = new Uint8Array(buf); // own, aligned copy (Buffer#slice would be a view into a pool)
  const dv = new DataView(copy.buffer);
  const le = dv.getInt32(0, true) === 348;
  if (!le && dv.getInt32(0, false) !== 348) throw bad(source, 'not a NIfTI-1 file (sizeof_hdr != 348)');
  const ndim = dv.getInt16(40, le);
  const dims = [1, 2, 3].map((i) => (i <= ndim ? dv.getInt16(40 + 2 * i, le) : 1));
  if (ndim < 1 || ndim > 7 || dims.some((d) => d < 1)) throw bad(source, `bad dim field (${ndim}: ${dims.join('×')})`);
  for (let i = 4; i <= ndim; i++) if (dv.getInt16(40 + 2 * i, le) > 1) throw bad(source, 'only 3-D images are supported');
  const datatype = dv.getInt16(70, le);
  const dt = DATATYPES[datatype];
  if (!dt) throw bad(source, `NIfTI datatype ${datatype} is not supported`);
  const pixdim = [0, 1, 2, 3].map((i) => dv.getFloat32(76 + 4 * i, le));
  const voxOffset = Math.max(348, Math.round(dv.getFloat32(108, le)));
  const n = dims[0] * dims[1] * dims[2];
  if (voxOffset + n * dt.bytes > copy.length) throw bad(source, `truncated: needs ${n * dt.bytes} data bytes after offset ${voxOffset}`);
  const qform = dv.getInt16(252, le);
  const sform = dv.getInt16(254, le);
  let A: number[][];
  if (sform > 0) A = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => dv.getFloat32(280 + 16 * r + 4 * c, le))).concat([[0, 0, 0, 1]]);
  else if (qform > 0) A = quaternAffine(dv, le, pixdim);
  else A = [[pixdim[1], 0, 0, 0], [0, pixdim[2], 0, 0], [0, 0, pixdim[3], 0], [0, 0, 0, 1]];
  // Data: typed view (swap bytes for big-endian files).
  let raw = copy.subarray(voxOffset, voxOffset + n * dt.bytes).slice();
  if (!le && dt.bytes > 1) {
    const sw = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += dt.bytes) for (let k = 0; k < dt.bytes; k++) sw[i + k] = raw[i + dt.bytes - 1 - k];
    raw = sw;
  }
  const data = dt.make(raw.buffer, 0, n);
  // RAS → LPS: negate the first two rows of the affine.
  const lps = A.slice(0, 3).map((row, r) => (r < 2 ? row.map((v) => -v) : row));
  const axis = (c: number): Vec3 => [lps[0][c], lps[1][c], lps[2][c]];
  const len = (v: Vec3) => Math.hypot(v[0], v[1], v[2]);
  const spacing: Vec3 = [len(axis(0)), len(axis(1)), len(axis(2))];
  const direction = [0, 1, 2].map((c) => axis(c).map((v) => v / spacing[c]) as unknown as Vec3) as unknown as [Vec3, Vec3, Vec3];
  return {
    dims: [dims[0], dims[1], dims[2]],
    spacing,
    origin: [lps[0][3], lps[1][3], lps[2][3]],
    direction,
    data,
    datatype,
    affineRas: A,
  };
}

/** A NIfTI mask as a LabelMap in its own voxel order (values rounded to 0..255). */
export function niftiAsLabelMap(n: NiftiImage): LabelMap {
  const data = n.data instanceof Uint8Array ? n.data : Uint8Array.from(n.data as ArrayLike<number>, (v) => Math.max(0, Math.min(255, Math.round(v))));
  return { dims: n.dims, spacing: n.spacing, origin: n.origin, direction: n.direction, data };
}

/**
 * The NIfTI's values on a volume's grid, in the volume's index order (i + j*nx + k*nx*ny), without
 * resampling: each volume axis must run along a NIfTI axis (either sign) with the same spacing and
 * the grids must cover the same voxel centres. Throws when they don't.
 */
export function niftiToVolumeGrid(n: NiftiImage, g: VolumeGeometry, tolMm = 1e-2): Uint8Array {
  const perm: number[] = [];
  const sign: number[] = [];
  for (let a = 0; a < 3; a++) {
    let found = -1;
    for (let b = 0; b < 3; b++) {
      const d = g.direction[a][0] * n.direction[b][0] + g.direction[a][1] * n.direction[b][1] + g.direction[a][2] * n.direction[b][2];
      if (Math.abs(Math.abs(d) - 1) < 1e-4) {
        found = b;
        sign[a] = d > 0 ? 1 : -1;
      }
    }
    if (found < 0 || perm.includes(found)) throw new DfaError('DICOM_BAD_GEOMETRY', `NIfTI axes do not line up with the volume's axis ${a} (resampling needed)`);
    if (Math.abs(n.spacing[found] - g.spacing[a]) > tolMm) {
      throw new DfaError('DICOM_BAD_GEOMETRY', `NIfTI spacing ${n.spacing[found]} mm differs from the volume's ${g.spacing[a]} mm on axis ${a}`);
    }
    if (n.dims[found] !== g.dims[a]) throw new DfaError('DICOM_BAD_GEOMETRY', `NIfTI has ${n.dims[found]} voxels where the volume has ${g.dims[a]} on axis ${a}`);
    perm[a] = found;
  }
  // NIfTI index of the volume's voxel (0,0,0): must be a grid corner within tolerance.
  const o = patientToIndex(n, g.origin);
  const start: number[] = [];
  for (let a = 0; a < 3; a++) {
    const b = perm[a];
    const want = sign[a] > 0 ? 0 : n.dims[b] - 1;
    if (Math.abs(o[b] - want) * n.spacing[b] > tolMm) {
      throw new DfaError('DICOM_BAD_GEOMETRY', `NIfTI grid is offset from the volume by ${((o[b] - want) * n.spacing[b]).toFixed(3)} mm on axis ${a}`);
    }
    start[a] = want;
  }
  const [nx, ny, nz] = g.dims;
  const nStride = [1, n.dims[0], n.dims[0] * n.dims[1]];
  const stride = [0, 1, 2].map((a) => sign[a] * nStride[perm[a]]);
  const base = start[0] * nStride[perm[0]] + start[1] * nStride[perm[1]] + start[2] * nStride[perm[2]];
  const out = new Uint8Array(voxelCount(g));
  const src = n.data;
  let q = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let p = base + k * stride[2] + j * stride[1];
      for (let i = 0; i < nx; i++, p += stride[0]) out[q++] = Math.max(0, Math.min(255, Math.round(src[p])));
    }
  }
  return out;
}

/** Encode a volume-shaped array as NIfTI-1 (.nii.gz if gzip), writing LPS geometry as an RAS sform/qform. */
export function encodeNifti(g: VolumeGeometry, data: Uint8Array | Int16Array | Float32Array, opts: { gzip?: boolean; description?: string } = {}): Uint8Array {
  const datatype = data instanceof Uint8Array ? 2 : data instanceof Int16Array ? 4 : 16;
  const bpv = data.BYTES_PER_ELEMENT;
  const hdr = new Uint8Array(352);
  const dv = new DataView(hdr.buffer);
  dv.setInt32(0, 348, true);
  const dimVals = [3, g.dims[0], g.dims[1], g.dims[2], 1, 1, 1, 1];
  dimVals.forEach((v, i) => dv.setInt16(40 + 2 * i, v, true));
  dv.setInt16(70, datatype, true);
  dv.setInt16(72, bpv * 8, true);
  [1, g.spacing[0], g.spacing[1], g.spacing[2], 1, 1, 1, 1].forEach((v, i) => dv.setFloat32(76 + 4 * i, v, true));
  dv.setFloat32(108, 352, true);
  dv.setFloat32(112, 1, true); // scl_slope
  dv.setUint8(123, 2); // xyzt_units: mm
  const desc = (opts.description ?? 'dicom-fhir-agent').slice(0, 79);
  for (let i = 0; i < desc.length; i++) hdr[148 + i] = desc.charCodeAt(i) & 0x7f;
  dv.setInt16(254, 1, true); // sform_code: scanner anatomical
  // LPS → RAS: negate x and y rows.
  for (let r = 0; r < 3; r++) {
    const sgn = r < 2 ? -1 : 1;
    for (let c = 0; c < 3; c++) dv.setFloat32(280 + 16 * r + 4 * c, sgn * g.direction[c][r] * g.spacing[c], true);
    dv.setFloat32(280 + 16 * r + 12, sgn * g.origin[r], true);
  }
  hdr.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  const out = new Uint8Array(352 + data.byteLength);
  out.set(hdr, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 352);
  return opts.gzip === false ? out : gzipSync(out, { level: 1 });
}
