import { Worker } from 'node:worker_threads';
import type { DfaErrorCode } from '../../core/errors.ts';
import { DfaError } from '../../core/errors.ts';
import type { Segmenter } from '../../core/ports.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import type { ClassicalRunInfo } from './lung-segmenter.ts';
import type { ClassicalLungManifest } from './manifest.ts';
import { shippedClassicalManifest } from './manifest.ts';

type Reply = { labels: LabelMap; run?: ClassicalRunInfo } | { error: { code: DfaErrorCode; message: string } };

/**
 * The classical segmenter on a worker thread: seconds of CPU work on a clinical CT would otherwise
 * block the event loop that serves the API and the DICOM SCP. One short-lived worker per call (no
 * pool to manage); the volume is copied in, the labels are transferred back. An abort terminates
 * the worker at once.
 */
export function createClassicalLungSegmenterInWorker(manifest: ClassicalLungManifest = shippedClassicalManifest()): Segmenter & { lastRun?: ClassicalRunInfo } {
  const seg: Segmenter & { lastRun?: ClassicalRunInfo } = {
    manifest,
    segment(volume: Volume, opts: { signal?: AbortSignal } = {}): Promise<LabelMap> {
      return new Promise<LabelMap>((resolve, reject) => {
        if (opts.signal?.aborted) {
          reject(opts.signal.reason);
          return;
        }
        const worker = new Worker(new URL('./segment-worker.ts', import.meta.url), { workerData: { manifest, volume } });
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          opts.signal?.removeEventListener('abort', onAbort);
          fn();
        };
        const onAbort = () => {
          finish(() => reject(opts.signal?.reason));
          void worker.terminate();
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        worker.once('message', (m: Reply) => {
          if ('error' in m) finish(() => reject(new DfaError(m.error.code, m.error.message)));
          else {
            seg.lastRun = m.run;
            finish(() => resolve(m.labels));
          }
          void worker.terminate();
        });
        worker.once('error', (e) => finish(() => reject(new DfaError('SEGMENTATION_FAILED', `segmentation worker failed: ${e.message}`, { cause: e }))));
        worker.once('exit', (code) => finish(() => reject(new DfaError('SEGMENTATION_FAILED', `segmentation worker exited with code ${code}`))));
      });
    },
  };
  return seg;
}
