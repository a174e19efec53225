/**
 * Volumes and label maps between steps, so the checkpoint only holds a key (never voxel arrays)
 * and a job resumed in another process gets them back:
 *  - a volume is saved as its header and the DICOM files it was loaded from (already on disk from
 *    `retrieve`), not as voxels: loading is deterministic, so a resumed job loads the same files
 *    again and checks the geometry matches. Writing 157 MB of voxels for a 512×512×300 study on
 *    every job only served the rare resume. (Volumes saved raw by earlier versions still load.)
 *  - a label map is saved run-length encoded (label-rle.ts): a few MB instead of a byte a voxel.
 * The last few are also kept in memory, so the steps after `volume` in the same process read
 * nothing back.
 */
import { checkArtifactPrefix } from '../../core/artifact-key.ts';
import { DfaError } from '../../core/errors.ts';
import type { ArtifactStore } from '../../core/ports.ts';
import type { LabelMap, Volume, VolumeGeometry, VolumeInfo } from '../../core/volume.ts';
import { localPaths } from './artifact-files.ts';
import type { LoadVolume } from './deps.ts';
import { decodeLabelRuns, encodeLabelRuns } from '../../core/label-rle.ts';

const recent = new Map<string, Volume | LabelMap>();
const KEEP = 6;
function remember(key: string, v: Volume | LabelMap): void {
  recent.delete(key);
  recent.set(key, v);
  while (recent.size > KEEP) recent.delete(recent.keys().next().value as string);
}
/** Drop what a finished job kept in memory. */
export function forget(prefix: string): void {
  for (const k of [...recent.keys()]) if (k.startsWith(prefix)) recent.delete(k);
}

/** A typed view on the bytes when aligned (readFile's own buffer), else a copy. */
function view<T>(raw: Uint8Array, bytesPer: number, make: (b: ArrayBufferLike, off: number, n: number) => T): T {
  if (raw.byteOffset % bytesPer === 0) return make(raw.buffer, raw.byteOffset, raw.byteLength / bytesPer);
  return make(raw.slice().buffer, 0, raw.byteLength / bytesPer);
}
type DType = 'float32' | 'int16' | 'uint8';

interface Header extends VolumeGeometry {
  readonly dtype: DType;
  readonly meta?: Volume['meta'];
  /** Volumes: the files to load it from again (no volume.raw), as artifact keys (paths in earlier versions). */
  readonly sourceFiles?: readonly string[];
  /** Labels: 'rle' → labels.rle (label-rle.ts); absent → labels.raw (earlier versions). */
  readonly encoding?: 'rle';
}

function geometry(g: VolumeGeometry): VolumeGeometry {
  return { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
}

export async function saveVolume(store: ArtifactStore, key: string, v: Volume, sourceFiles: readonly string[]): Promise<void> {
  const dtype: DType = v.data instanceof Float32Array ? 'float32' : 'int16';
  const h: Header = { ...geometry(v), dtype, meta: v.meta, sourceFiles };
  await store.put(`${key}/volume.json`, new TextEncoder().encode(JSON.stringify(h)));
  remember(`${key}/volume`, v);
}

/** A volume's geometry and DICOM metadata, without its voxels. */
export function volumeInfoOf(v: VolumeInfo): VolumeInfo {
  return { ...geometry(v), meta: v.meta };
}

/**
 * The saved volume's header only (geometry + metadata): what the RTSTRUCT / SEG writers need, read
 * without loading a voxel — in an agent whose volume lives with a remote ml_processor it is all there is.
 */
export async function loadSavedVolumeInfo(store: ArtifactStore, key: string): Promise<VolumeInfo> {
  const hit = recent.get(`${key}/volume`);
  if (hit && 'meta' in hit) return volumeInfoOf(hit);
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/volume.json`))) as Header;
  if (!h.meta) throw new DfaError('ARTIFACT_NOT_FOUND', `volume header without metadata: ${key}`);
  return { ...geometry(h), meta: h.meta };
}

const near = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);

/**
 * `keysOnly`: a service loading a volume someone else saved (the ml_processor) takes artifact keys
 * only, never a local path from a header (earlier versions wrote paths: those are the agent's own).
 * `load`: how to load the header's source files (default: their local copies, `reload`); the
 * ml_processor's own, which shares loads in flight (LocalVolumeHost's `loadFiles`). Checked against the header
 * the same way.
 */
export async function loadSavedVolume(
  store: ArtifactStore,
  key: string,
  reload: LoadVolume,
  o: { keysOnly?: boolean; load?: (sourceFiles: readonly string[]) => Promise<Volume> } = {},
): Promise<Volume> {
  const hit = recent.get(`${key}/volume`);
  if (hit && 'meta' in hit) return hit;
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/volume.json`))) as Header;
  if (!h.meta) throw new DfaError('ARTIFACT_NOT_FOUND', `volume header without metadata: ${key}`);
  if (o.keysOnly) for (const f of h.sourceFiles ?? []) checkArtifactPrefix(f, false);
  let v: Volume;
  if (h.sourceFiles) {
    const files = h.sourceFiles;
    const again = o.load ? await o.load(files) : await reload(await localPaths(store, files));
    const same = near(again.dims, h.dims) && near(again.spacing, h.spacing) && near(again.origin, h.origin) && again.direction.every((d: readonly number[], i: number) => near(d, h.direction[i]));
    if (!same || again.meta.seriesInstanceUid !== h.meta.seriesInstanceUid) {
      throw new DfaError('ARTIFACT_NOT_FOUND', `volume ${key}: its source files no longer give the same volume (dims ${again.dims.join('×')} vs ${h.dims.join('×')}); retrieve again`);
    }
    v = again;
  } else {
    const raw = await store.get(`${key}/volume.raw`);
    const data = h.dtype === 'float32' ? view(raw, 4, (b, o, n) => new Float32Array(b, o, n)) : view(raw, 2, (b, o, n) => new Int16Array(b, o, n));
    v = { ...geometry(h), data, meta: h.meta };
  }
  remember(`${key}/volume`, v);
  return v;
}

export async function saveLabels(store: ArtifactStore, key: string, l: LabelMap): Promise<void> {
  await store.put(`${key}/labels.rle`, encodeLabelRuns(l.data));
  const h: Header = { ...geometry(l), dtype: 'uint8', encoding: 'rle' };
  await store.put(`${key}/labels.json`, new TextEncoder().encode(JSON.stringify(h)));
  remember(`${key}/labels`, l);
}

/** Keeps a label map another process saved under `key` (a remote ml_processor) for this process's next steps. */
export function keepLabels(key: string, l: LabelMap): void {
  remember(`${key}/labels`, l);
}

export async function loadSavedLabels(store: ArtifactStore, key: string): Promise<LabelMap> {
  const hit = recent.get(`${key}/labels`);
  if (hit && !('meta' in hit)) return hit;
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/labels.json`))) as Header;
  const voxels = h.dims[0] * h.dims[1] * h.dims[2];
  const data = h.encoding === 'rle' ? decodeLabelRuns(await store.get(`${key}/labels.rle`), voxels, `labels ${key}`) : await rawLabels(store, key);
  const l: LabelMap = { ...geometry(h), data };
  remember(`${key}/labels`, l);
  return l;
}

async function rawLabels(store: ArtifactStore, key: string): Promise<Uint8Array> {
  const raw = await store.get(`${key}/labels.raw`);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}
