import { DfaError } from './errors.ts';
import { decodeLabelRuns, encodeLabelRuns } from './label-rle.ts';
import type { LabelMap, Volume, VolumeGeometry } from './volume.ts';

/**
 * How a volume and a label map travel between services through the artifact store (issue 13 §1:
 * large data by reference, never in JSON): a JSON header (geometry, voxel type, the volume's DICOM
 * metadata) beside the voxels — raw little-endian for a volume, run-length encoded (label-rle.ts)
 * for a label map. Pure: the callers read and write the bytes.
 */
export interface VolumeHeader extends VolumeGeometry {
  readonly dtype: 'int16' | 'float32';
  readonly meta: Volume['meta'];
}
export interface LabelsHeader extends VolumeGeometry {
  readonly encoding: 'rle';
}

const geometry = (g: VolumeGeometry): VolumeGeometry => ({ dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction });
const voxels = (g: VolumeGeometry) => g.dims[0] * g.dims[1] * g.dims[2];
const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

// Node and every platform we run on are little-endian; the typed-array views below rely on it.
export function encodeVolume(v: Volume): { header: Uint8Array; voxels: Uint8Array } {
  const header: VolumeHeader = { ...geometry(v), dtype: v.data instanceof Float32Array ? 'float32' : 'int16', meta: v.meta };
  return { header: json(header), voxels: new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength) };
}

export function decodeVolume(headerBytes: Uint8Array, raw: Uint8Array, what: string): Volume {
  const h = parseHeader<VolumeHeader>(headerBytes, what);
  const bytesPer = h.dtype === 'float32' ? 4 : 2;
  if (raw.byteLength !== voxels(h) * bytesPer) {
    throw new DfaError('DICOM_BAD_GEOMETRY', `${what}: ${raw.byteLength} bytes of voxels for ${h.dims.join('×')} ${h.dtype}`);
  }
  // A typed view needs an aligned offset; copy when the bytes sit at an odd place in their buffer.
  const aligned = raw.byteOffset % bytesPer === 0 ? raw : raw.slice();
  const data = h.dtype === 'float32' ? new Float32Array(aligned.buffer, aligned.byteOffset, voxels(h)) : new Int16Array(aligned.buffer, aligned.byteOffset, voxels(h));
  return { ...geometry(h), data, meta: h.meta };
}

export function encodeLabels(l: LabelMap): { header: Uint8Array; runs: Uint8Array } {
  const header: LabelsHeader = { ...geometry(l), encoding: 'rle' };
  return { header: json(header), runs: encodeLabelRuns(l.data) };
}

export function decodeLabels(headerBytes: Uint8Array, runs: Uint8Array, what: string): LabelMap {
  const h = parseHeader<LabelsHeader>(headerBytes, what);
  return { ...geometry(h), data: decodeLabelRuns(runs, voxels(h), what) };
}

function parseHeader<T extends VolumeGeometry>(bytes: Uint8Array, what: string): T {
  let h: T;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new DfaError('DICOM_BAD_GEOMETRY', `${what}: the header is not JSON`, { cause: e });
  }
  const ok = Array.isArray(h?.dims) && h.dims.length === 3 && h.dims.every((n) => Number.isInteger(n) && n > 0 && n <= 65_536);
  if (!ok) throw new DfaError('DICOM_BAD_GEOMETRY', `${what}: the header has no valid dims`);
  return h;
}
