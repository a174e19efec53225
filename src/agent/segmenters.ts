import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ModelManifest } from '../core/model.ts';
import type { Segmenter } from '../core/ports.ts';
import { createClassicalLungSegmenterInWorker } from '../ml/classical/worker-segmenter.ts';
import { classicalManifestSchema } from '../ml/classical/manifest.ts';
import { loadManifest, SHIPPED_MODELS_DIR } from '../ml/manifest.ts';
import { createOnnxSegmenter } from '../ml/onnx/index.ts';
import { segmentWithQc } from '../ml/segment.ts';
import type { SegmentWithQc } from './jobs/deps.ts';

type SegmenterConfig = Pick<Config, 'DFA_MODEL_DIR' | 'DFA_ONNX_THREADS'>;

/** The shipped model of each kind: what 'classical' / 'onnx' mean when it is installed. */
const DEFAULT_OF_KIND: Record<string, string> = { classical: 'classical-lung', onnx: 'lung-unet' };

/**
 * The manifest a segmenter name refers to: a model name is its folder; 'classical' / 'onnx' mean
 * the shipped model of that kind when installed, else the first installed model of that kind.
 */
async function manifestPath(name: string, dir: string): Promise<string> {
  if (name !== 'classical' && name !== 'onnx') return join(dir, name, 'manifest.json');
  const folders = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const preferred = folders.includes(DEFAULT_OF_KIND[name]) ? [DEFAULT_OF_KIND[name]] : [];
  for (const d of [...preferred, ...folders]) {
    const p = join(dir, d, 'manifest.json');
    const m = JSON.parse(await readFile(p, 'utf8').catch(() => '{}')) as Partial<ModelManifest>;
    if (m.kind === name) return p;
  }
  throw new DfaError('MODEL_INVALID', `no ${name} model installed in ${dir}`);
}

/**
 * One segmenter by the name a plan or the CLI uses: 'classical' / 'onnx' (the first installed model
 * of that kind) or a model's own name (its folder under DFA_MODEL_DIR, default the shipped models/).
 * The classical one runs on a worker thread: seconds of CPU on a clinical CT must not stall the event
 * loop that serves the API, the SCP and the queue's heartbeats. ONNX sessions use DFA_ONNX_THREADS.
 */
export async function createSegmenter(name: string, cfg: SegmenterConfig, log: Logger): Promise<Segmenter> {
  const dir = cfg.DFA_MODEL_DIR ?? fileURLToPath(SHIPPED_MODELS_DIR);
  const path = await manifestPath(name, dir);
  const raw = JSON.parse(await readFile(path, 'utf8').catch((e: unknown) => {
    throw new DfaError('MODEL_INVALID', `no model '${name}' (${path})`, { cause: e });
  })) as Partial<ModelManifest>;
  if (raw.kind === 'classical') return createClassicalLungSegmenterInWorker(await loadManifest(path, classicalManifestSchema));
  if (raw.kind === 'onnx') return await createOnnxSegmenter(path, { logger: log, intraOpNumThreads: cfg.DFA_ONNX_THREADS });
  throw new DfaError('MODEL_INVALID', `model '${name}' has unknown kind '${String(raw.kind)}'`);
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
