import { DfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ModelManifest, QcResult } from '../core/model.ts';
import type { SegmentationOutcome, Segmenter } from '../core/ports.ts';
import type { LabelMap, Volume } from '../core/volume.ts';
import { volumesMl } from './metrics.ts';
import { qcFailures, qcLungs } from './qc.ts';

/** One segmenter's try: it threw (`error`), or produced labels that passed or failed QC. */
export interface SegmentAttempt {
  readonly model: string; // manifest name
  readonly version: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string; // 'CODE: message' when it threw
  readonly qc?: QcResult;
}

export interface QcSegmentation extends SegmentationOutcome {
  /** Manifest name of the segmenter whose labels these are. */
  readonly segmenter: string;
  readonly attempts: readonly SegmentAttempt[];
  /** Why the first segmenter's result was not used (absent when it was). */
  readonly fallbackReason?: string;
  /** No segmenter passed QC: these are the best labels there were, for a human to review. */
  readonly reviewRequired: boolean;
}

export interface SegmentWithQcOptions {
  readonly signal?: AbortSignal;
  /** Quality checks on the CT and its labels (default: qcLungs, limits by patient age). */
  readonly qc?: (volume: Volume, labels: LabelMap, manifest: ModelManifest) => QcResult;
}

/**
 * Try segmenters in order (e.g. [onnx, classical] or [classical, onnx]); the first whose labels
 * pass QC wins. A segmenter that throws or fails QC is recorded and the next one tried. When none
 * passes but some produced labels, the one with the fewest failed checks is returned with
 * `reviewRequired` — a value the job can flag, not an exception. Only when every segmenter threw is
 * this a fault (SEGMENTATION_FAILED, caused by the last error).
 */
export async function segmentWithQc(volume: Volume, segmenters: readonly Segmenter[], log: Logger, opts: SegmentWithQcOptions = {}): Promise<QcSegmentation> {
  if (segmenters.length === 0) throw new DfaError('SEGMENTATION_FAILED', 'no segmenter configured');
  const qcOf = opts.qc ?? ((v: Volume, labels: LabelMap, manifest: ModelManifest) => qcLungs(v, labels, manifest));
  const attempts: SegmentAttempt[] = [];
  const produced: { outcome: SegmentationOutcome; failed: number; index: number }[] = [];
  let lastError: unknown;

  for (const [index, s] of segmenters.entries()) {
    opts.signal?.throwIfAborted();
    const { name, version } = s.manifest;
    const t0 = performance.now();
    let labels: LabelMap;
    try {
      labels = await s.segment(volume, opts.signal ? { signal: opts.signal } : {});
      checkGrid(labels, volume, name);
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      lastError = e;
      const err = toDfaError(e, 'SEGMENTATION_FAILED');
      attempts.push({ model: name, version, ok: false, ms: performance.now() - t0, error: `${err.code}: ${err.message}` });
      log.warn('segmenter failed', { model: name, version, code: err.code, error: err.message });
      continue;
    }
    const qc = qcOf(volume, labels, s.manifest);
    const ms = performance.now() - t0;
    attempts.push({ model: name, version, ok: qc.ok, ms, qc });
    const outcome: SegmentationOutcome = { labels, manifest: s.manifest, qc, volumesMl: volumesMl(labels, s.manifest) };
    if (qc.ok) {
      log.info('segmentation passed QC', { model: name, version, ms: Math.round(ms), volumesMl: roundAll(outcome.volumesMl) });
      return finish(outcome, attempts, false, index);
    }
    log.warn('segmentation failed QC', { model: name, version, failed: qcFailures(qc) });
    produced.push({ outcome, failed: qc.checks.filter((c) => !c.ok).length, index });
  }

  if (produced.length === 0) {
    throw new DfaError('SEGMENTATION_FAILED', `every segmenter failed: ${attempts.map((a) => `${a.model}: ${a.error}`).join('; ')}`, {
      cause: lastError,
      details: { attempts: attempts.map((a) => ({ model: a.model, error: a.error })) },
    });
  }
  produced.sort((a, b) => a.failed - b.failed || a.index - b.index);
  const best = produced[0];
  log.warn('no segmenter passed QC; flagging for review', { model: best.outcome.manifest.name });
  return finish(best.outcome, attempts, true, best.index);
}

/** `used` is the index (in the caller's order) of the segmenter whose labels are returned. */
function finish(outcome: SegmentationOutcome, attempts: readonly SegmentAttempt[], reviewRequired: boolean, used: number): QcSegmentation {
  const fallbackReason = used === 0 ? undefined : reasonOf(attempts[0]);
  return {
    ...outcome,
    segmenter: outcome.manifest.name,
    attempts,
    reviewRequired,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
  };
}

function reasonOf(a: SegmentAttempt): string {
  if (a.error !== undefined) return `${a.model} failed: ${a.error}`;
  return `${a.model} failed QC: ${a.qc ? qcFailures(a.qc).join(', ') : 'unknown'}`;
}

/** A segmenter must answer on the volume's own grid (Segmenter contract in ports.ts). */
function checkGrid(labels: LabelMap, volume: Volume, model: string): void {
  const same = labels.dims.every((d, i) => d === volume.dims[i]) && labels.data.length === volume.data.length;
  if (!same) {
    throw new DfaError('SEGMENTATION_FAILED', `${model} returned a ${labels.dims.join('×')} label map for a ${volume.dims.join('×')} volume`);
  }
}

function roundAll(v: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Math.round(x)]));
}
