import { DfaError } from '../../core/errors.ts';
import type { ArtifactStore } from '../../core/ports.ts';
import type { LabelMap, Volume, VolumeGeometry } from '../../core/volume.ts';

/**
 * Volumes and label maps between steps: a JSON header + the raw voxel bytes in the artifact store,
 * so the checkpoint only holds the key (never voxel arrays) and a resumed job reads them back.
 */
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
}

export async function loadSavedVolume(store: ArtifactStore, key: string): Promise<Volume> {
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/volume.json`))) as Header;
  const raw = await store.get(`${key}/volume.raw`);
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const data = h.dtype === 'float32' ? new Float32Array(buf) : new Int16Array(buf);
  if (!h.meta) throw new DfaError('ARTIFACT_NOT_FOUND', `volume header without metadata: ${key}`);
  return { ...geometry(h), data, meta: h.meta };
}

export async function saveLabels(store: ArtifactStore, key: string, l: LabelMap): Promise<void> {
  await store.put(`${key}/labels.raw`, bytesOf(l.data));
  const h: Header = { ...geometry(l), dtype: 'uint8' };
  await store.put(`${key}/labels.json`, new TextEncoder().encode(JSON.stringify(h)));
}

export async function loadSavedLabels(store: ArtifactStore, key: string): Promise<LabelMap> {
  const h = JSON.parse(new TextDecoder().decode(await store.get(`${key}/labels.json`))) as Header;
  const raw = await store.get(`${key}/labels.raw`);
  return { ...geometry(h), data: new Uint8Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
}
