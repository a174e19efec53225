import { randomUUID } from 'node:crypto';
import { DfaError, isDfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ModelManifest, QcResult } from '../core/model.ts';
import type { ArtifactStore, PreviewRequest, SegmentationOutcome, Segmenter, SegmentWithQc, StoredPreview, VolumeHost } from '../core/ports.ts';
import type { Volume, VolumeGeometry, VolumeInfo } from '../core/volume.ts';
import { decodeLabels, encodeVolume } from '../core/volume-wire.ts';
import type { ServiceClient } from './service-client.ts';

/**
 * The ml_processor through its HTTP API (DFA_ML_URL), as the same SegmentWithQc a job uses in
 * process. Large data goes by key: the volume is written to the artifact store the service shares
 * (voxels + header, core/volume-wire.ts) under a key of its own, the service is told the key, and
 * the label map is read back from the key it answers with; both are removed afterwards. A volume a
 * job saved (SegmentOptions.volumeKey: its header + the keys of its DICOM files) is not sent at all:
 * the service loads it from those files in the store, one transfer of the study instead of two.
 *
 * Several replicas (DFA_ML_URL=http://h1:p1,http://h2:p2): each call starts at the next replica in
 * turn and, when that one is down, dies mid-request or lacks the model, goes on to the others —
 * segmentation is a pure function of (volume, model), so asking again elsewhere is safe. A replica
 * that failed is tried last for `downForMs`. Only when every replica failed does the call fail
 * (SERVICE_UNAVAILABLE: transient, the job's retry policy waits and tries again).
 */
export interface RemoteMlOptions {
  readonly replicas: readonly ServiceClient[];
  readonly store: ArtifactStore;
  readonly log: Logger;
  /** One segmentation on one replica (DFA_ML_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** How long a replica that failed goes to the back of the line (default 10 s). */
  readonly downForMs?: number;
}

interface SegmentAnswer {
  readonly labelsKey: string;
  readonly model: { readonly name: string; readonly version: string };
  readonly manifest: ModelManifest;
  readonly qc: QcResult;
  readonly volumesMl: Readonly<Record<string, number>>;
}

interface InstalledModelView {
  readonly name: string;
  readonly version: string;
  readonly manifest: ModelManifest;
}

/** 'name@version' → the request's model; a bare name or kind leaves the version to the service. */
export function modelRefOf(ref: string): { name: string; version?: string } {
  const at = ref.lastIndexOf('@');
  return at > 0 ? { name: ref.slice(0, at), version: ref.slice(at + 1) } : { name: ref };
}

export class RemoteMl {
  private readonly o: RemoteMlOptions;
  private next = 0;
  private readonly downUntil = new Map<ServiceClient, number>();
  /** The replica that loaded each recently opened volume (its segment and preview calls go there first). */
  private readonly openedOn = new Map<string, ServiceClient>();
  /** The job's volumes live on the replicas (VolumeHost): loaded, segmented and previewed there. */
  readonly volumes: VolumeHost;

  constructor(o: RemoteMlOptions) {
    if (o.replicas.length === 0) throw new DfaError('CONFIG_INVALID', 'DFA_ML_URL lists no ml_processor');
    this.o = o;
    this.volumes = {
      open: (volumeKey, sourceFiles) => this.open(volumeKey, sourceFiles),
      segment: (volumeKey, geometry, segmenter, opts) => this.segmentSaved(volumeKey, geometry, segmenter, opts),
      renderPreviews: (req) => this.renderPreviews(req),
    };
  }

  /**
   * The replicas in the order this call tries them: round robin, recently failed ones last; a call
   * about a volume one replica opened goes there first (`volumeKey`: it holds it in memory).
   */
  private order(volumeKey?: string): ServiceClient[] {
    const n = this.o.replicas.length;
    const start = this.next++ % n;
    let turn = Array.from({ length: n }, (_, i) => this.o.replicas[(start + i) % n]!);
    const warm = volumeKey ? this.openedOn.get(volumeKey) : undefined;
    if (warm) turn = [warm, ...turn.filter((r) => r !== warm)];
    const now = Date.now();
    const up = turn.filter((r) => (this.downUntil.get(r) ?? 0) <= now);
    return [...up, ...turn.filter((r) => !up.includes(r))];
  }

  /** Calls `fn` on each replica in turn until one answers; SERVICE_UNAVAILABLE / MODEL_NOT_INSTALLED move on. */
  private async onAReplica<T>(what: string, fn: (r: ServiceClient) => Promise<T>, signal?: AbortSignal, volumeKey?: string): Promise<T> {
    const failures: string[] = [];
    let notInstalled: DfaError | undefined;
    for (const r of this.order(volumeKey)) {
      signal?.throwIfAborted();
      try {
        const out = await fn(r);
        this.downUntil.delete(r);
        return out;
      } catch (e) {
        if (signal?.aborted) throw e;
        if (isDfaError(e, 'MODEL_NOT_INSTALLED')) notInstalled = e; // another replica may have it
        else if (isDfaError(e, 'SERVICE_UNAVAILABLE')) this.downUntil.set(r, Date.now() + (this.o.downForMs ?? 10_000));
        else throw e;
        failures.push(toDfaError(e).message);
        if (this.o.replicas.length > 1) this.o.log.warn('ml_processor replica failed; trying another', { what, replica: r.where, error: toDfaError(e).message });
      }
    }
    if (notInstalled && failures.length === 1) throw notInstalled;
    if (notInstalled) throw new DfaError('MODEL_NOT_INSTALLED', `no reachable ml_processor has it: ${failures.join('; ')}`, { details: notInstalled.details });
    throw new DfaError('SERVICE_UNAVAILABLE', `every ml_processor replica failed (${what}): ${failures.join('; ')}`, { details: { service: 'ml_processor', replicas: this.o.replicas.length } });
  }

  /** The installed models (of the first replica that answers). */
  async models(): Promise<InstalledModelView[]> {
    return (await this.onAReplica('GET /models', (r) => r.json<{ models: InstalledModelView[] }>('GET', '/models'))).models;
  }

  /**
   * SegmentWithQc over HTTP. A volume saved by a job (`opts.volumeKey`: its header and the keys of
   * its DICOM files) is not sent: the service loads it from the store itself, or has it in memory
   * when it opened it. Any other volume goes as voxels through the store.
   */
  readonly segment: SegmentWithQc = async (volume: Volume, segmenter: string, opts = {}) => {
    if (!opts.volumeKey) return this.segmentSent(volume, segmenter, opts);
    const key = `ml/requests/${randomUUID()}`;
    return this.segmentCall(key, volume, segmenter, opts, async () => ({ savedVolumeKey: opts.volumeKey, model: modelRefOf(segmenter), labelsKey: `${key}/labels` }));
  };

  private async segmentSent(volume: Volume, segmenter: string, opts: { signal?: AbortSignal }): Promise<SegmentationOutcome> {
    const key = `ml/requests/${randomUUID()}`;
    const wire = encodeVolume(volume);
    return this.segmentCall(key, volume, segmenter, opts, async () => {
      // Voxels first, header last: the header's presence says the volume is whole.
      await this.o.store.put(`${key}/volume.raw`, wire.voxels);
      await this.o.store.put(`${key}/volume.json`, wire.header);
      return { volumeKey: key, model: modelRefOf(segmenter) };
    });
  }

  /** VolumeHost.segment: the replica that holds the volume segments it and saves the labels where the job keeps them. */
  private async segmentSaved(volumeKey: string, geometry: VolumeGeometry, segmenter: string, opts: { labelsKey: string; signal?: AbortSignal }): Promise<SegmentationOutcome> {
    const body = { savedVolumeKey: volumeKey, model: modelRefOf(segmenter), labelsKey: opts.labelsKey };
    return this.segmentCall(undefined, geometry, segmenter, { signal: opts.signal, volumeKey }, async () => body);
  }

  /** POST /segment with the body `prepare` gives; the labels read back from the store; the request's own artifacts (`key`) removed afterwards. */
  private async segmentCall(
    key: string | undefined,
    geometry: VolumeGeometry,
    segmenter: string,
    opts: { signal?: AbortSignal; volumeKey?: string },
    prepare: () => Promise<Record<string, unknown>>,
  ): Promise<SegmentationOutcome> {
    const { store } = this.o;
    try {
      const body = await prepare();
      const answer = await this.onAReplica(
        `segment with ${segmenter}`,
        (r) => r.json<SegmentAnswer>('POST', '/segment', { json: body, timeoutMs: this.o.timeoutMs ?? 600_000, signal: opts.signal }),
        opts.signal,
        opts.volumeKey,
      );
      const [header, runs] = await Promise.all([store.get(`${answer.labelsKey}/labels.json`), store.get(`${answer.labelsKey}/labels.rle`)]);
      const labels = decodeLabels(header, runs, `labels ${answer.labelsKey}`);
      if (labels.dims.some((d, i) => d !== geometry.dims[i])) {
        throw new DfaError('SERVICE_ERROR', `ml_processor answered labels on a ${labels.dims.join('×')} grid for a ${geometry.dims.join('×')} volume`);
      }
      return { labels, manifest: answer.manifest, qc: answer.qc, volumesMl: answer.volumesMl };
    } finally {
      if (key) await store.remove(key).catch((e: unknown) => this.o.log.warn('could not remove the request artifacts', { key, error: toDfaError(e).message }));
    }
  }

  /**
   * VolumeHost.open: a replica loads the series from the store and saves the volume's header; later
   * calls about `volumeKey` go to that replica first (it keeps the volume in memory). Another replica
   * can still serve them: it loads the volume again from the saved header's keys.
   */
  private async open(volumeKey: string, sourceFiles: readonly string[]): Promise<VolumeInfo> {
    let on: ServiceClient | undefined;
    const info = await this.onAReplica('open a volume', async (r) => {
      const x = await r.json<VolumeInfo>('POST', '/volumes/open', { json: { volumeKey, sourceFiles }, timeoutMs: this.o.timeoutMs ?? 600_000 });
      on = r;
      return x;
    });
    this.openedOn.delete(volumeKey);
    this.openedOn.set(volumeKey, on!);
    while (this.openedOn.size > 64) this.openedOn.delete(this.openedOn.keys().next().value as string);
    return info;
  }

  /** VolumeHost.renderPreviews: on the replica that holds the volume, PNGs written to the store. */
  private async renderPreviews(req: PreviewRequest): Promise<StoredPreview[]> {
    const answer = await this.onAReplica(
      'render previews',
      (r) => r.json<{ previews: StoredPreview[] }>('POST', '/previews', { json: req, timeoutMs: this.o.timeoutMs ?? 600_000 }),
      undefined,
      req.volumeKey,
    );
    return answer.previews;
  }

  /** One model as a Segmenter port (its manifest from GET /models); labels only, QC is the caller's. */
  async segmenter(ref: string): Promise<Segmenter> {
    const want = modelRefOf(ref);
    const m = (await this.models()).filter((x) => x.name === want.name && (!want.version || x.version === want.version)).pop();
    if (!m) throw new DfaError('MODEL_NOT_INSTALLED', `no ml_processor lists model '${ref}'`);
    const pinned = `${m.name}@${m.version}`;
    return { manifest: m.manifest, segment: async (v, o) => (await this.segment(v, pinned, o)).labels };
  }
}
