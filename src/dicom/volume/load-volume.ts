import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError, isDfaError } from '../../core/errors.ts';
import type { SliceRef, Volume, VolumeMeta } from '../../core/volume.ts';
import { personName, str } from '../parse/attributes.ts';
import { decodeFrames, pixelFormat, type FrameSamples } from '../parse/pixels.ts';
import { readDicomFile, type ParsedDicom } from '../parse/read-part10.ts';
import { framesOf, type FrameInfo } from './frames.ts';
import { groupSeries, selectImageSeries, type SeriesGroup, type SeriesSelection } from './series.ts';
import { stackGeometry } from './stack-geometry.ts';

export interface LoadVolumeOptions {
  /** Modalities accepted as the image series (default ['CT']). */
  readonly modalities?: readonly string[];
  /** Load this series only. */
  readonly seriesInstanceUid?: string;
  /** Keep gantry-tilted stacks as a sheared grid instead of refusing with DICOM_BAD_GEOMETRY. */
  readonly allowTilt?: boolean;
}

export interface UnreadableFile {
  readonly source: string;
  readonly reason: string;
}

export interface VolumeLoadReport {
  readonly volume: Volume;
  readonly selection: SeriesSelection;
  readonly unreadable: readonly UnreadableFile[];
}

/** Every regular file under the given directories (recursively) plus the given files, sorted. */
export async function listDicomFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const e of await readdir(p)) await walk(join(p, e));
    } else if (s.isFile()) out.push(p);
  };
  for (const p of paths) await walk(p);
  return out.sort();
}

/** Parse files; files that are not DICOM (or are broken) are returned with the reason, not thrown. */
export async function readInstances(files: readonly string[]): Promise<{ instances: ParsedDicom[]; unreadable: UnreadableFile[] }> {
  const instances: ParsedDicom[] = [];
  const unreadable: UnreadableFile[] = [];
  for (const f of files) {
    try {
      instances.push(await readDicomFile(f));
    } catch (e) {
      if (!isDfaError(e)) throw e;
      unreadable.push({ source: f, reason: e.message });
    }
  }
  return { instances, unreadable };
}

/** Int16 holds HU exactly when the rescale is an integer shift and the stored range fits. */
function fitsInt16(frames: readonly FrameInfo[]): boolean {
  for (const f of frames) {
    if (f.slope !== 1 || !Number.isInteger(f.intercept)) return false;
    const fmt = pixelFormat(f.instance);
    const lo = fmt.pixelRepresentation === 1 ? -(2 ** (fmt.bitsStored - 1)) : 0;
    const hi = fmt.pixelRepresentation === 1 ? 2 ** (fmt.bitsStored - 1) - 1 : 2 ** fmt.bitsStored - 1;
    if (lo + f.intercept < -32768 || hi + f.intercept > 32767) return false;
  }
  return true;
}

function metaOf(group: SeriesGroup, order: readonly FrameInfo[]): VolumeMeta {
  const ds = order[0].instance.dataset;
  const slices: SliceRef[] = order.map((f) => ({ sopInstanceUid: f.sopInstanceUid, sopClassUid: f.sopClassUid, position: f.position! }));
  return {
    studyInstanceUid: str(ds, 'StudyInstanceUID') ?? group.studyInstanceUid,
    seriesInstanceUid: group.seriesInstanceUid,
    frameOfReferenceUid: order[0].frameOfReferenceUid ?? '',
    modality: str(ds, 'Modality') ?? group.modality,
    patientId: str(ds, 'PatientID') ?? '',
    patientName: personName(ds, 'PatientName') ?? '',
    patientBirthDate: str(ds, 'PatientBirthDate'),
    patientSex: str(ds, 'PatientSex'),
    studyDate: str(ds, 'StudyDate'),
    studyTime: str(ds, 'StudyTime'),
    studyId: str(ds, 'StudyID'),
    accessionNumber: str(ds, 'AccessionNumber'),
    referringPhysicianName: personName(ds, 'ReferringPhysicianName'),
    studyDescription: str(ds, 'StudyDescription'),
    seriesDescription: str(ds, 'SeriesDescription'),
    slices,
  };
}

/** Build the volume of one series (already selected): geometry, HU voxels, meta. */
export async function volumeFromSeries(group: SeriesGroup, opts: LoadVolumeOptions = {}): Promise<Volume> {
  const label = `series ${group.seriesInstanceUid}`;
  const frames = group.instances.flatMap(framesOf);
  const { geometry, order } = stackGeometry(frames, { allowTilt: opts.allowTilt, label });
  const [nx, ny, nz] = geometry.dims;
  const perSlice = nx * ny;
  const asInt16 = fitsInt16(order);
  const data = asInt16 ? new Int16Array(perSlice * nz) : new Float32Array(perSlice * nz);
  // Decode each instance once; a multi-frame instance serves many k.
  const decoded = new Map<ParsedDicom, FrameSamples[]>();
  const remaining = new Map<ParsedDicom, number>();
  for (const f of order) remaining.set(f.instance, (remaining.get(f.instance) ?? 0) + 1);
  for (let k = 0; k < nz; k++) {
    const f = order[k];
    let frames = decoded.get(f.instance);
    if (!frames) {
      const d = await decodeFrames(f.instance);
      if (d.format.samplesPerPixel !== 1) {
        throw new DfaError('DICOM_INCONSISTENT_SERIES', `${f.instance.source}: ${d.format.photometricInterpretation} colour image in a ${group.modality} series`);
      }
      frames = d.frames;
      decoded.set(f.instance, frames);
    }
    const s = frames[f.frameIndex];
    if (!s) throw new DfaError('DICOM_PARSE_FAILED', `${f.instance.source}: frame ${f.frameIndex + 1} missing from Pixel Data`);
    const off = k * perSlice;
    const m = f.slope;
    const b = f.intercept;
    // Rescale Slope/Intercept (PS3.3 C.11.1.1.2) → HU. Plain loops over typed arrays, no per-voxel objects.
    if (asInt16 && b === 0 && s instanceof Int16Array) data.set(s.subarray(0, perSlice), off);
    else if (m === 1) for (let i = 0; i < perSlice; i++) data[off + i] = s[i] + b;
    else for (let i = 0; i < perSlice; i++) data[off + i] = s[i] * m + b;
    const left = remaining.get(f.instance)! - 1;
    remaining.set(f.instance, left);
    if (left === 0) decoded.delete(f.instance);
  }
  return { ...geometry, data, meta: metaOf(group, order) };
}

function noSeriesError(selection: SeriesSelection, unreadable: readonly UnreadableFile[], modalities: readonly string[]): DfaError {
  const summary = selection.skipped.map((s) => `${s.modality || '?'} ${s.seriesInstanceUid}: ${s.reason}`).join('; ');
  const extra = unreadable.length ? `; ${unreadable.length} unreadable file(s), e.g. ${unreadable[0].reason}` : '';
  const otherImages = selection.skipped.some((s) => /modality .* is not/.test(s.reason));
  return new DfaError(otherImages ? 'DICOM_NOT_CT' : 'DICOM_NO_IMAGE_SERIES', `no ${modalities.join('/')} image series to load (${summary || 'no DICOM instances'}${extra})`, {
    details: { skipped: selection.skipped, unreadable },
  });
}

/**
 * Files (or parsed instances) → the image series' volume, with what was skipped and why.
 * Faults (gaps, mixed geometry, no CT series, broken slices) are DfaErrors naming the file.
 */
export async function loadVolumeWithReport(input: readonly string[] | readonly ParsedDicom[], opts: LoadVolumeOptions = {}): Promise<VolumeLoadReport> {
  const modalities = opts.modalities ?? ['CT'];
  let instances: ParsedDicom[];
  let unreadable: UnreadableFile[] = [];
  if (input.length > 0 && typeof input[0] === 'string') {
    ({ instances, unreadable } = await readInstances(input as readonly string[]));
  } else instances = [...(input as readonly ParsedDicom[])];
  const selection = selectImageSeries(groupSeries(instances), { modalities, seriesInstanceUid: opts.seriesInstanceUid });
  if (!selection.selected) throw noSeriesError(selection, unreadable, modalities);
  try {
    const volume = await volumeFromSeries(selection.selected, opts);
    return { volume, selection, unreadable };
  } catch (e) {
    if (isDfaError(e, 'DICOM_MISSING_SLICES') && unreadable.length) {
      throw new DfaError('DICOM_MISSING_SLICES', `${e.message}; unreadable files that may be the missing slices: ${unreadable.map((u) => u.source).join(', ')}`, { cause: e, details: e.details });
    }
    throw e;
  }
}

export async function loadVolume(input: readonly string[] | readonly ParsedDicom[], opts: LoadVolumeOptions = {}): Promise<Volume> {
  return (await loadVolumeWithReport(input, opts)).volume;
}

/** Convenience: every file under a directory → volume. */
export async function loadVolumeFromDir(dir: string, opts: LoadVolumeOptions = {}): Promise<Volume> {
  return loadVolume(await listDicomFiles([dir]), opts);
}
