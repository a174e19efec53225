/**
 * Worker-thread entry for `createClassicalLungSegmenterInWorker`: segments one volume and posts the
 * labels back (their buffer transferred, not copied). Faults travel as { code, message } because a
 * DfaError does not survive structured cloning as a class.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toDfaError } from '../../core/errors.ts';
import type { Volume } from '../../core/volume.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';
import type { ClassicalLungManifest } from './manifest.ts';

const { manifest, volume } = workerData as { manifest: ClassicalLungManifest; volume: Volume };
try {
  const seg = createClassicalLungSegmenter(manifest);
  const labels = await seg.segment(volume);
  parentPort?.postMessage({ labels, run: seg.lastRun }, [labels.data.buffer as ArrayBuffer]);
} catch (e) {
  const err = toDfaError(e, 'SEGMENTATION_FAILED');
  parentPort?.postMessage({ error: { code: err.code, message: err.message } });
}
