import { DfaError } from '../../core/errors.ts';
import type { Segmenter } from '../../core/ports.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import { boundingBox, boxGeometry, cropMask, pasteMask } from '../morphology/crop.ts';
import { fillLabelHolesPerSlice } from '../morphology/fill-holes.ts';
import { closeLabel } from '../morphology/closing.ts';
import { removeAirways } from './airways.ts';
import { bodyMask } from './body.ts';
import type { ClassicalLungManifest } from './manifest.ts';
import { lungLabelValues, shippedClassicalManifest } from './manifest.ts';
import type { SplitMethod } from './split.ts';
import { splitLungs } from './split.ts';

/** What the last run did, for logs and tests. */
export interface ClassicalRunInfo {
  readonly airwayVoxels: number;
  readonly airwaySlices: number;
  readonly split: SplitMethod;
  readonly erosionMm?: number;
  readonly ms: number;
  /** Milliseconds per stage (body, airways, split, fill). */
  readonly stageMs: Readonly<Record<string, number>>;
}

export interface ClassicalLungSegmenter extends Segmenter {
  readonly manifest: ClassicalLungManifest;
  /** Details of the most recent `segment` call. */
  lastRun?: ClassicalRunInfo;
}

/**
 * Rule-based lung segmentation (no weights): body outline → air inside the body → trachea and main
 * bronchi removed → left/right split → vessel holes filled per slice → optional closing. Every
 * size is in millimetres (see ClassicalParams); which label is which lung comes from the manifest.
 */
export function createClassicalLungSegmenter(manifest: ClassicalLungManifest = shippedClassicalManifest()): ClassicalLungSegmenter {
  const { left, right } = lungLabelValues(manifest);
  const p = manifest.params;
  const seg: ClassicalLungSegmenter = {
    manifest,
    // async: a fault or an abort becomes a rejected promise, never a synchronous throw
    async segment(volume: Volume, opts: { signal?: AbortSignal } = {}): Promise<LabelMap> {
      const t0 = performance.now();
      const stageMs: Record<string, number> = {};
      let tStage = t0;
      const check = (stage: string) => {
        const now = performance.now();
        stageMs[stage] = Math.round(now - tStage);
        tStage = now;
        opts.signal?.throwIfAborted();
      };
      const n = volume.dims[0] * volume.dims[1] * volume.dims[2];
      if (volume.data.length !== n || n === 0) {
        throw new DfaError('SEGMENTATION_FAILED', `volume has ${volume.data.length} voxels, dims say ${n}`);
      }
      opts.signal?.throwIfAborted();
      const body = bodyMask(volume, p.bodyHu);
      // air inside the body outline; reuse the body mask's memory
      const air = body.mask;
      const hu = volume.data;
      for (let i = 0; i < n; i++) air[i] = air[i] !== 0 && hu[i] < p.lungHu ? 1 : 0;
      check('body');
      const airways = removeAirways(air, volume, body.midlineX, p);
      check('airways');
      const labels = new Uint8Array(n);
      const box = boundingBox(air, volume.dims, 1);
      let split: SplitMethod = 'single';
      let erosionMm: number | undefined;
      if (box) {
        const g = boxGeometry(volume, box);
        const s = splitLungs(cropMask(air, volume.dims, box), g, body.midlineX, p.minLungFraction, left, right);
        split = s.method;
        erosionMm = s.erosionMm;
        check('split');
        for (const v of [left, right]) {
          fillLabelHolesPerSlice(s.labels, g.dims[0], g.dims[1], g.dims[2], v);
          if (p.closingMm > 0) closeLabel(s.labels, g, v, p.closingMm);
        }
        pasteMask(labels, volume.dims, box, s.labels);
        check('fill');
      }
      seg.lastRun = {
        airwayVoxels: airways.removedVoxels,
        airwaySlices: airways.slices,
        split,
        ...(erosionMm === undefined ? {} : { erosionMm }),
        ms: performance.now() - t0,
        stageMs,
      };
      const { dims, spacing, origin, direction } = volume;
      return { dims, spacing, origin, direction, data: labels };
    },
  };
  return seg;
}
