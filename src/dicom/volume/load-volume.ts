import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError, isDfaError } from '../../core/errors.ts';
import type { SliceRef, Volume, VolumeMeta } from '../../core/volume.ts';
import { num, personName, str } from '../parse/attributes.ts';
import { decodeFrames, type FrameSamples } from '../parse/pixels.ts';
import { readDicomFile, readDicomHeader, type ParsedDicom } from '../parse/read-part10.ts';
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
  /** Drop each instance's Pixel Data once copied (set automatically when loading from files). */
  readonly releasePixelData?: boolean;
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

/**
 * Our own in-progress names: a receive's temp file (scp/instance-file.ts) and a WADO-RS part being
 * written (dicomweb/part-files.ts). One left by a crash is not an instance, nor a broken one.
 */
const IN_PROGRESS = /^(\.dfa-\d+-[a-z0-9]+\.tmp|\.part-\d+-\d+)$/;

/** Every regular file under the given directories (recursively) plus the given files, sorted; our temp files left out. */
export async function listDicomFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walkDir = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walkDir(p);
      else if (e.isFile() && !IN_PROGRESS.test(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) await walkDir(p);
    else out.push(p);
  }
  return out.sort();
}

const READ_CONCURRENCY = 8;
const DECODE_AHEAD = 6;

/** Parse files; files that are not DICOM (or are broken) are returned with the reason, not thrown. */
export async function readInstances(files: readonly string[], opts: { pixelData?: boolean } = {}): Promise<{ instances: ParsedDicom[]; unreadable: UnreadableFile[] }> {
  // A few reads in flight keep the disk busy while the CPU parses; results keep the input order.
  const results: (ParsedDicom | UnreadableFile)[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        results[i] = await (opts.pixelData === false ? readDicomHeader(files[i]) : readDicomFile(files[i]));
      } catch (e) {
        if (!isDfaError(e)) throw e;
        results[i] = { source: files[i], reason: e.message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  const instances: ParsedDicom[] = [];
  const unreadable: UnreadableFile[] = [];
  for (const r of results) {
    if ('dataset' in r) instances.push(r);
    else unreadable.push(r);
  }
  return { instances, unreadable };
}

/**
 * Rescale Slope/Intercept (PS3.3 C.11.1.1.2) → HU into the volume. Typed-array `set` (memcpy-like)
 * plus one monomorphic in-place pass: no per-voxel objects, no polymorphic element access.
 * Returns false when an Int16 destination cannot hold the values (the caller switches to Float32).
 */
function rescaleInto(dst: Int16Array | Float32Array, off: number, src: FrameSamples | Float32Array, slope: number, intercept: number): boolean {
  const n = src.length;
  if (dst instanceof Int16Array) {
    const view = dst.subarray(off, off + n);
    if (intercept === 0 && (src instanceof Int16Array || src instanceof Int8Array || src instanceof Uint8Array)) {
      view.set(src);
      return true;
    }
    if (src instanceof Int16Array || src instanceof Int8Array || src instanceof Uint8Array) {
      // Copy (memcpy), then shift in place: a pass over one array, monomorphic whatever the source.
      view.set(src);
      return shiftInPlace(view, intercept);
    }
    if (src instanceof Uint16Array) return shiftUint16(view, src, intercept);
    return copyShiftedToInt16(view, src, intercept);
  }
  const view = dst.subarray(off, off + n);
  view.set(src);
  if (slope !== 1 || intercept !== 0) scaleFloat32(view, slope, intercept);
  return true;
}

/**
 * PS3.3 C.7.5.1.1.2: Pixel Padding Value (and Range Limit) mark voxels outside the reconstructed
 * field of view (often −2000 or −3024 HU). They are not tissue: CT padding becomes air (−1024 HU),
 * other modalities 0, so segmenters never see an artificial ring of "denser than air".
 */
function withoutPadding(src: FrameSamples, f: FrameInfo, modality: string): FrameSamples | Float32Array {
  const ds = f.instance.dataset;
  const pad = num(ds, 'PixelPaddingValue');
  if (pad === undefined) return src;
  const limit = num(ds, 'PixelPaddingRangeLimit') ?? pad;
  const lo = Math.min(pad, limit);
  const hi = Math.max(pad, limit);
  const fill = modality === 'CT' ? (-1024 - f.intercept) / f.slope : 0;
  let out: Float32Array | undefined;
  for (let i = 0; i < src.length; i++) {
    if (src[i] < lo || src[i] > hi) continue;
    out ??= Float32Array.from(src);
    out[i] = fill;
  }
  return out ?? src;
}

/** view += b (Int16, the common CT case), one monomorphic pass; false when a value leaves the Int16 range. */
function shiftInPlace(view: Int16Array, b: number): boolean {
  let lo = 0;
  let hi = 0;
  const n = view.length;
  for (let i = 0; i < n; i++) {
    const v = view[i] + b;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    view[i] = v;
  }
  return lo >= -32768 && hi <= 32767;
}

/** dst = src + b for unsigned stored values (e.g. 12-bit CT in 16 bits), one monomorphic pass; false when a value leaves the Int16 range. */
function shiftUint16(dst: Int16Array, src: Uint16Array, b: number): boolean {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < dst.length; i++) {
    const v = src[i] + b;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    dst[i] = v;
  }
  return lo >= -32768 && hi <= 32767;
}

function copyShiftedToInt16(dst: Int16Array, src: ArrayLike<number>, b: number): boolean {
  let ok = true;
  for (let i = 0; i < dst.length; i++) {
    const v = src[i] + b;
    if (v < -32768 || v > 32767) ok = false;
    dst[i] = v;
  }
  return ok;
}

function scaleFloat32(a: Float32Array, m: number, b: number): void {
  for (let i = 0; i < a.length; i++) a[i] = a[i] * m + b;
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
  // Int16 when the rescale is an integer shift and the values fit (checked while copying: signed
  // 16-bit + intercept −1024 is common and its declared range overflows, its real values never do).
  let data: Int16Array | Float32Array = order.every((f) => f.slope === 1 && Number.isInteger(f.intercept)) ? new Int16Array(perSlice * nz) : new Float32Array(perSlice * nz);
  // Decode each instance once; a multi-frame instance serves many k.
  const decoded = new Map<ParsedDicom, FrameSamples[]>();
  const remaining = new Map<ParsedDicom, number>();
  for (const f of order) remaining.set(f.instance, (remaining.get(f.instance) ?? 0) + 1);
  // Decode a few instances ahead: files read by readDicomHeader are read again here, and the
  // reads overlap with copying. Rejections are marked handled now and surface when awaited.
  const sequence = [...new Set(order.map((f) => f.instance))];
  const pending = new Map<ParsedDicom, Promise<Awaited<ReturnType<typeof decodeFrames>>>>();
  let ahead = 0;
  const prefetch = (upTo: number) => {
    for (; ahead < Math.min(upTo, sequence.length); ahead++) {
      const pr = decodeFrames(sequence[ahead]);
      pr.catch(() => undefined);
      pending.set(sequence[ahead], pr);
    }
  };
  let started = 0;
  for (let k = 0; k < nz; k++) {
    const f = order[k];
    let frames = decoded.get(f.instance);
    if (!frames) {
      prefetch(++started + DECODE_AHEAD);
      const d = await pending.get(f.instance)!;
      pending.delete(f.instance);
      if (d.format.samplesPerPixel !== 1) {
        throw new DfaError('DICOM_INCONSISTENT_SERIES', `${f.instance.source}: ${d.format.photometricInterpretation} colour image in a ${group.modality} series`);
      }
      frames = d.frames;
      decoded.set(f.instance, frames);
    }
    const s = frames[f.frameIndex];
    if (!s) throw new DfaError('DICOM_PARSE_FAILED', `${f.instance.source}: frame ${f.frameIndex + 1} missing from Pixel Data`);
    const src = withoutPadding(s.subarray(0, perSlice), f, group.modality);
    if (!rescaleInto(data, k * perSlice, src, f.slope, f.intercept)) {
      // Values overflow Int16 after all: redo in Float32 (slices so far are exact in either type).
      data = Float32Array.from(data);
      rescaleInto(data, k * perSlice, src, f.slope, f.intercept);
    }
    const left = remaining.get(f.instance)! - 1;
    remaining.set(f.instance, left);
    if (left === 0) {
      decoded.delete(f.instance);
      // Instances we parsed ourselves give up their pixel buffers as soon as they are copied,
      // so peak memory stays near one volume rather than volume + every file.
      if (opts.releasePixelData) delete f.instance.dataset.PixelData;
    }
  }
  return { ...geometry, data, meta: metaOf(group, order) };
}

function noSeriesError(selection: SeriesSelection, unreadable: readonly UnreadableFile[], modalities: readonly string[], requested?: string): DfaError {
  if (requested) {
    // The user named a series: its absence is their input, not a fault of the files (exit 2).
    const it = selection.skipped.find((s) => s.seriesInstanceUid === requested && s.reason !== 'not the requested series');
    const others = selection.skipped.filter((s) => s !== it).map((s) => `${s.seriesInstanceUid} (${s.modality || '?'}, ${s.instanceCount} files)`);
    return new DfaError('SERIES_NOT_FOUND', it ? `series ${requested} cannot be loaded as a ${modalities.join('/')} volume: ${it.reason}` : `series ${requested} is not in the input; it holds ${others.join(', ') || 'no DICOM series'}`, {
      details: { skipped: selection.skipped, unreadable },
    });
  }
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
    // Headers first (pixels re-read for the chosen series only): a study with several large
    // series never sits in memory all at once.
    ({ instances, unreadable } = await readInstances(input as readonly string[], { pixelData: false }));
  } else instances = [...(input as readonly ParsedDicom[])];
  const selection = selectImageSeries(groupSeries(instances), { modalities, seriesInstanceUid: opts.seriesInstanceUid });
  if (!selection.selected) throw noSeriesError(selection, unreadable, modalities, opts.seriesInstanceUid);
  try {
    const volume = await volumeFromSeries(selection.selected, { ...opts, releasePixelData: opts.releasePixelData ?? typeof input[0] === 'string' });
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
