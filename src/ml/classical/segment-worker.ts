/**
 * Worker-thread entry for `createClassicalLungSegmenterInWorker`: segments each volume it is sent
 * and posts the labels back (their buffer transferred, not copied). The thread stays up between
 * jobs, so module loading and JIT warm-up are paid once, not per study. Faults travel as
 * { code, message } because a DfaError does not survive structured cloning as a class.
 */
import { parentPort } from 'node:worker_threads';
import { toDfaError } from '../../core/errors.ts';
import type { Volume } from '../../core/volume.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import type { ClassicalLungManifest } from './manifest.ts';

parentPort?.on('message', (m: { manifest: ClassicalLungManifest; volume: Volume }) => {
  void (async () => {
    try {
      const seg = createClassicalLungSegmenter(m.manifest);
      const labels = await seg.segment(m.volume);
      parentPort?.postMessage({ labels, run: seg.lastRun }, [labels.data.buffer as ArrayBuffer]);
    } catch (e) {
      const err = toDfaError(e, 'SEGMENTATION_FAILED');
      parentPort?.postMessage({ error: { code: err.code, message: err.message } });
    }
  })();
});
