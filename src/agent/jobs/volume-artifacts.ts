import { DfaError } from '../../core/errors.ts';
import type { ArtifactStore } from '../../core/ports.ts';
import type { LabelMap, Volume, VolumeGeometry } from '../../core/volume.ts';

/**
 * Volumes and label maps between steps: a JSON header + the raw voxel bytes in the artifact store,
 * so the checkpoint only holds the key (never voxel arrays) and a resumed job reads them back.
 * The last few are also kept in memory, so the steps after `volume` in the same process do not
 * re-read ~150 MB per step; a job resumed in another process reads the files.
 */
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
}

function geometry(g: VolumeGeometry): VolumeGeometry {
  return { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
}

function bytesOf(a: Float32Array | Int16Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export async function saveVolume(store: ArtifactStore, key: string, v: Volume): Promise<void> {
  const dtype: DType = v.data instanceof Float32Array ? 'float32' : 'int16';
  // Raw first, header last: the header's presence means the pair is complete.
  await store.put(`${key}/volume.raw`, bytesOf(v.data));
  const h: Header = { ...geometry(v), dtype, meta: v.meta };
  await store.put(`${key}/volume.json`, new TextEncoder().encode(JSON.stringify(h)));
  remember(`${key}/volume`, v);
}

export async function loadSavedVolume(store: ArtifactStore, key: string): Promise<Volume> {
  const hit = recent.get(`${key}/volume`);
  if (hit && 'meta' in hit) return hit;
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/volume.json`))) as Header;
  const raw = await store.get(`${key}/volume.raw`);
  const data = h.dtype === 'float32' ? view(raw, 4, (b, o, n) => new Float32Array(b, o, n)) : view(raw, 2, (b, o, n) => new Int16Array(b, o, n));
  if (!h.meta) throw new DfaError('ARTIFACT_NOT_FOUND', `volume header without metadata: ${key}`);
  const v: Volume = { ...geometry(h), data, meta: h.meta };
  remember(`${key}/volume`, v);
  return v;
}

export async function saveLabels(store: ArtifactStore, key: string, l: LabelMap): Promise<void> {
  await store.put(`${key}/labels.raw`, bytesOf(l.data));
  const h: Header = { ...geometry(l), dtype: 'uint8' };
  await store.put(`${key}/labels.json`, new TextEncoder().encode(JSON.stringify(h)));
  remember(`${key}/labels`, l);
}

export async function loadSavedLabels(store: ArtifactStore, key: string): Promise<LabelMap> {
  const hit = recent.get(`${key}/labels`);
  if (hit && !('meta' in hit)) return hit;
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/labels.json`))) as Header;
  const raw = await store.get(`${key}/labels.raw`);
  const l: LabelMap = { ...geometry(h), data: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
  remember(`${key}/labels`, l);
  return l;
}
