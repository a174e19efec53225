import { Worker } from 'node:worker_threads';
import type { DfaErrorCode } from '../../core/errors.ts';
import { DfaError } from '../../core/errors.ts';
import type { Segmenter } from '../../core/ports.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import type { ClassicalRunInfo } from './lung-segmenter.ts';
import type { ClassicalLungManifest } from './manifest.ts';
import { shippedClassicalManifest } from './manifest.ts';

type Reply = { labels: LabelMap; run?: ClassicalRunInfo } | { error: { code: DfaErrorCode; message: string } };

export type WorkerSegmenter = Segmenter & { lastRun?: ClassicalRunInfo; readonly threadsStarted: number; release(): Promise<void> };

/**
 * The classical segmenter on worker threads: seconds of CPU work on a clinical CT would otherwise
 * block the event loop that serves the API and the DICOM SCP. A thread that finished a job is parked
 * (unref'd, so it never keeps the process alive) and reused by the next one — starting a thread,
 * loading its modules and JIT-compiling the segmenter again cost ~150 ms and a third of a job's CPU.
 * Concurrent calls get threads of their own. A thread that faulted, was aborted or died while parked
 * is never reused. The volume is copied in, the labels are transferred back.
 */
export function createClassicalLungSegmenterInWorker(manifest: ClassicalLungManifest = shippedClassicalManifest()): WorkerSegmenter {
  const idle: Worker[] = [];
  let started = 0;
  const take = (): Worker => {
    for (let w = idle.pop(); w; w = idle.pop()) if (w.threadId !== -1) return w; // -1: it exited while parked
    started++;
    return new Worker(new URL('./segment-worker.ts', import.meta.url));
  };
  const seg: WorkerSegmenter = {
    manifest,
    get threadsStarted() {
      return started;
    },
    async release() {
      await Promise.all(idle.splice(0).map((w) => w.terminate()));
    },
    segment(volume: Volume, opts: { signal?: AbortSignal } = {}): Promise<LabelMap> {
      return new Promise<LabelMap>((resolve, reject) => {
        if (opts.signal?.aborted) {
          reject(opts.signal.reason);
          return;
        }
        const worker = take();
        worker.ref();
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          opts.signal?.removeEventListener('abort', onAbort);
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          fn();
        };
        const onAbort = () => {
          finish(() => reject(opts.signal?.reason));
          void worker.terminate();
        };
        const onMessage = (m: Reply) => {
          if ('error' in m) {
            finish(() => reject(new DfaError(m.error.code, m.error.message)));
            void worker.terminate(); // a thread that faulted is not trusted with the next job
            return;
          }
          seg.lastRun = m.run;
          finish(() => resolve(m.labels));
          worker.unref();
          idle.push(worker);
        };
        const onError = (e: Error) => finish(() => reject(new DfaError('SEGMENTATION_FAILED', `segmentation worker failed: ${e.message}`, { cause: e })));
        const onExit = (code: number) => finish(() => reject(new DfaError('SEGMENTATION_FAILED', `segmentation worker exited with code ${code}`)));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        worker.postMessage({ manifest, volume });
      });
    },
  };
  return seg;
}
