import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ModelManifest } from '../core/model.ts';
import type { Segmenter } from '../core/ports.ts';
import { createClassicalLungSegmenter } from '../ml/classical/lung-segmenter.ts';
import { classicalManifestSchema } from '../ml/classical/manifest.ts';
import { loadManifest, SHIPPED_MODELS_DIR } from '../ml/manifest.ts';
import { createOnnxSegmenter } from '../ml/onnx/index.ts';
import { segmentWithQc } from '../ml/segment.ts';
import type { SegmentWithQc } from './jobs/deps.ts';

/**
 * Segmenters by the names plans use: 'classical' and 'onnx' (the first installed model of that
 * kind), or a model's own name (its folder under DFA_MODEL_DIR, default the shipped models/).
 * Each is created once per process and reused by every job.
 */
export function segmenterRegistry(cfg: Pick<Config, 'DFA_MODEL_DIR'>, log: Logger): { segment: SegmentWithQc; close(): Promise<void> } {
  const dir = cfg.DFA_MODEL_DIR ?? fileURLToPath(SHIPPED_MODELS_DIR);
  const cache = new Map<string, Promise<Segmenter>>();

  const manifestPath = async (name: string): Promise<string> => {
    if (name !== 'classical' && name !== 'onnx') return join(dir, name, 'manifest.json');
    for (const d of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      const p = join(dir, d, 'manifest.json');
      const m = JSON.parse(await readFile(p, 'utf8').catch(() => '{}')) as Partial<ModelManifest>;
      if (m.kind === name) return p;
    }
    throw new DfaError('MODEL_INVALID', `no ${name} model installed in ${dir}`);
  };

  const create = async (name: string): Promise<Segmenter> => {
    const path = await manifestPath(name);
    const raw = JSON.parse(await readFile(path, 'utf8').catch((e: unknown) => {
      throw new DfaError('MODEL_INVALID', `no model '${name}' (${path})`, { cause: e });
    })) as Partial<ModelManifest>;
    if (raw.kind === 'classical') return createClassicalLungSegmenter(await loadManifest(path, classicalManifestSchema));
    if (raw.kind === 'onnx') return await createOnnxSegmenter(path, { logger: log });
    throw new DfaError('MODEL_INVALID', `model '${name}' has unknown kind '${String(raw.kind)}'`);
  };

  const get = (name: string): Promise<Segmenter> => {
    let s = cache.get(name);
    if (!s) {
      s = create(name);
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
