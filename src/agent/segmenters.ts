import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Segmenter } from '../core/ports.ts';
import { createClassicalLungSegmenterInWorker } from '../ml/classical/worker-segmenter.ts';
import { classicalManifestSchema } from '../ml/classical/manifest.ts';
import { loadManifest } from '../ml/manifest.ts';
import { createOnnxSegmenter } from '../ml/onnx/index.ts';
import { loadModelRegistry, modelDirOf, resolveModel, type ModelRegistry } from '../ml/registry.ts';
import { segmentWithQc } from '../ml/segment.ts';
import type { SegmentWithQc } from './jobs/deps.ts';

type SegmenterConfig = Pick<Config, 'DFA_MODEL_DIR' | 'DFA_ONNX_THREADS'>;

/**
 * One segmenter by the name a plan or the CLI uses: a model's manifest name (`name` or
 * `name@version`) or a kind ('classical' / 'onnx'), resolved by the model registry (src/ml/registry.ts)
 * under DFA_MODEL_DIR (default the shipped models/). Not installed → MODEL_NOT_INSTALLED.
 * The classical one runs on a worker thread: seconds of CPU on a clinical CT must not stall the event
 * loop that serves the API, the SCP and the queue's heartbeats. ONNX sessions use DFA_ONNX_THREADS.
 */
export async function createSegmenter(name: string, cfg: SegmenterConfig, log: Logger, registry?: ModelRegistry): Promise<Segmenter> {
  const reg = registry ?? (await loadModelRegistry(modelDirOf(cfg)));
  const { manifest, manifestPath } = resolveModel(reg, name);
  if (manifest.kind === 'classical') return createClassicalLungSegmenterInWorker(await loadManifest(manifestPath, classicalManifestSchema));
  if (manifest.kind === 'onnx') return await createOnnxSegmenter(manifestPath, { logger: log, intraOpNumThreads: cfg.DFA_ONNX_THREADS });
  throw new DfaError('MODEL_INVALID', `model '${manifest.name}' has unknown kind '${String(manifest.kind)}'`);
}

/** Segmenters for jobs: each created once per process (by createSegmenter) and reused by every job. */
export function segmenterRegistry(cfg: SegmenterConfig, log: Logger): { segment: SegmentWithQc; close(): Promise<void> } {
  const cache = new Map<string, Promise<Segmenter>>();
  const get = (name: string): Promise<Segmenter> => {
    let s = cache.get(name);
    if (!s) {
      s = createSegmenter(name, cfg, log);
      cache.set(name, s);
      s.catch(() => cache.delete(name)); // a failed load is retried by the next job
    }
    return s;
  };

  return {
    // QC per segmenter; the job's segment step decides about the fallback (its own policy).
    segment: async (volume, name, opts) => segmentWithQc(volume, [await get(name)], log, opts?.signal ? { signal: opts.signal } : {}),
    close: async () => {
      for (const p of cache.values()) {
        const s = await p.catch(() => undefined);
        const release = (s as { release?: () => Promise<void> } | undefined)?.release;
        if (release) await release.call(s);
      }
    },
  };
}
