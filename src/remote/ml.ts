import { randomUUID } from 'node:crypto';
import { DfaError, isDfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ModelManifest, QcResult } from '../core/model.ts';
import type { ArtifactStore, SegmentationOutcome, Segmenter, SegmentWithQc } from '../core/ports.ts';
import type { Volume } from '../core/volume.ts';
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
  /** The replica each recently prefetched volume went to (its segment call goes there first). */
  private readonly prefetchedOn = new Map<string, ServiceClient>();

  constructor(o: RemoteMlOptions) {
    if (o.replicas.length === 0) throw new DfaError('CONFIG_INVALID', 'DFA_ML_URL lists no ml_processor');
    this.o = o;
  }

  /**
   * The replicas in the order this call tries them: round robin, recently failed ones last; a
   * volume prefetched on one replica goes there first (`volumeKey`).
   */
  private order(volumeKey?: string): ServiceClient[] {
    const n = this.o.replicas.length;
    const start = this.next++ % n;
    let turn = Array.from({ length: n }, (_, i) => this.o.replicas[(start + i) % n]!);
    const warm = volumeKey ? this.prefetchedOn.get(volumeKey) : undefined;
    if (warm) turn = [warm, ...turn.filter((r) => r !== warm)];
    const now = Date.now();
    const up = turn.filter((r) => (this.downUntil.get(r) ?? 0) <= now);
    return [...up, ...turn.filter((r) => !up.includes(r))];
  }

  /**
   * Asks the next replica to load a job's volume from its DICOM keys now (POST /prefetch), while the
   * job loads it too; the segment call for `volumeKey` then goes to that replica. Never throws: a
   * prefetch that fails only means the segment call loads the volume itself.
   */
  prefetch(volumeKey: string, sourceFiles: readonly string[]): void {
    const r = this.order()[0]!;
    this.prefetchedOn.delete(volumeKey);
    this.prefetchedOn.set(volumeKey, r);
    while (this.prefetchedOn.size > 64) this.prefetchedOn.delete(this.prefetchedOn.keys().next().value as string);
    r.call('POST', '/prefetch', { json: { volumeKey, sourceFiles } }).catch((e: unknown) => {
      this.o.log.warn('ml_processor prefetch failed; the segment call loads the volume', { replica: r.where, error: toDfaError(e).message });
    });
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

  /** SegmentWithQc over HTTP. */
  readonly segment: SegmentWithQc = async (volume: Volume, segmenter: string, opts = {}) => {
    const key = `ml/requests/${randomUUID()}`;
    const { store } = this.o;
    try {
      let body: Record<string, unknown>;
      if (opts.volumeKey) {
        // Saved by the job with the keys of its DICOM files: the service loads it from the store itself.
        body = { savedVolumeKey: opts.volumeKey, model: modelRefOf(segmenter), labelsKey: `${key}/labels` };
      } else {
        const wire = encodeVolume(volume);
        // Voxels first, header last: the header's presence says the volume is whole.
        await store.put(`${key}/volume.raw`, wire.voxels);
        await store.put(`${key}/volume.json`, wire.header);
        body = { volumeKey: key, model: modelRefOf(segmenter) };
      }
      const answer = await this.onAReplica(
        `segment with ${segmenter}`,
        (r) => r.json<SegmentAnswer>('POST', '/segment', { json: body, timeoutMs: this.o.timeoutMs ?? 600_000, signal: opts.signal }),
        opts.signal,
        opts.volumeKey,
      );
      const [header, runs] = await Promise.all([store.get(`${answer.labelsKey}/labels.json`), store.get(`${answer.labelsKey}/labels.rle`)]);
      const labels = decodeLabels(header, runs, `labels ${answer.labelsKey}`);
      if (labels.dims.some((d, i) => d !== volume.dims[i])) {
        throw new DfaError('SERVICE_ERROR', `ml_processor answered labels on a ${labels.dims.join('×')} grid for a ${volume.dims.join('×')} volume`);
      }
      const outcome: SegmentationOutcome = { labels, manifest: answer.manifest, qc: answer.qc, volumesMl: answer.volumesMl };
      return outcome;
    } finally {
      await store.remove(key).catch((e: unknown) => this.o.log.warn('could not remove the request artifacts', { key, error: toDfaError(e).message }));
    }
  };

  /** One model as a Segmenter port (its manifest from GET /models); labels only, QC is the caller's. */
  async segmenter(ref: string): Promise<Segmenter> {
    const want = modelRefOf(ref);
    const m = (await this.models()).filter((x) => x.name === want.name && (!want.version || x.version === want.version)).pop();
    if (!m) throw new DfaError('MODEL_NOT_INSTALLED', `no ml_processor lists model '${ref}'`);
    const pinned = `${m.name}@${m.version}`;
    return { manifest: m.manifest, segment: async (v, o) => (await this.segment(v, pinned, o)).labels };
  }
}
