import { DfaError } from '../../core/errors.ts';
import type { Segmenter } from '../../core/ports.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import type { Box } from '../morphology/crop.ts';
import { boundingBox, boxDims, boxGeometry, cropMask, nestBox, pasteMask } from '../morphology/crop.ts';
import { closeLabel } from '../morphology/closing.ts';
import { AIR, AIR_LUMEN, removeAirways } from './airways.ts';
import { axialOrder, fromAxialOrder, toAxialOrder } from './axial.ts';
import { bodyMask } from './body.ts';
import { diaphragms } from './dense-floor.ts';
import { recoverDenseLung } from './dense-lung.ts';
import { fillLungHoles } from './lung-holes.ts';
import { removeGasPockets } from './gas.ts';
import type { ClassicalLungManifest } from './manifest.ts';
import { lungLabelValues, shippedClassicalManifest } from './manifest.ts';
import type { SplitMethod } from './split.ts';
import { splitLungs } from './split.ts';

/** What the last run did, for logs and tests. */
export interface ClassicalRunInfo {
  readonly airwayVoxels: number;
  readonly airwaySlices: number;
  /** Air components rejected as gas (bowel, stomach, free air) and their voxels. */
  readonly gasPockets: number;
  readonly gasVoxels: number;
  /** Non-aerated lung voxels recovered (consolidation, tumour against the pleura; dense-lung.ts). */
  readonly denseVoxels: number;
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
      const order = axialOrder(volume);
      if (order !== undefined) {
        // sagittal / coronal series: segment in axial order, hand the labels back on the own grid
        const axial = await seg.segment(toAxialOrder(volume, order), opts);
        const { dims, spacing, origin, direction } = volume;
        return { dims, spacing, origin, direction, data: fromAxialOrder(axial.data, volume.dims, order) };
      }
      const body = bodyMask(volume, p.bodyHu);
      const labels = new Uint8Array(n);
      let split: SplitMethod = 'single';
      let erosionMm: number | undefined;
      let airways = { removedVoxels: 0, slices: 0 };
      let gas = { removed: 0, pockets: 0 };
      let denseVoxels = 0;
      if (body.box) {
        // everything below runs inside the body's box: outside it there is no lung
        const bg = boxGeometry(volume, body.box);
        const air = airInBody(volume, body.mask, body.box, p.lungHu, p.airwayHu);
        check('body');
        airways = removeAirways(air, bg, body.midlineX, p);
        gas = removeGasPockets(air, volume, body.box, p.gasHu);
        check('airways');
        const box = boundingBox(air, bg.dims, 1);
        if (box) {
          const g = boxGeometry(bg, box);
          const s = splitLungs(cropMask(air, bg.dims, box), g, body.midlineX, p.minLungFraction, p.apexToleranceMm, left, right);
          split = s.method;
          erosionMm = s.erosionMm;
          check('split');
          const hu = cropHu(volume, nestBox(body.box, box));
          // the footprint of the slices above is a vertical projection only on (near-)axial slices;
          // tilted gantry series keep the aerated lung (a known limit, see dense-lung.ts)
          if (Math.abs(g.direction[2][2]) > AXIAL_COS) {
            const floors = diaphragms(s.labels, hu, g, left, right, p.lungHu, body.midlineX);
            denseVoxels += recoverDenseLung(s.labels, hu, g, left, right, 1, floors.left, body.midlineX, p);
            denseVoxels += recoverDenseLung(s.labels, hu, g, right, left, -1, floors.right, body.midlineX, p);
          }
          check('dense');
          // vessel-sized holes, and larger ones only when lung-like: the liver and heart domes are holes too
          const maxHolePixels = p.maxHoleMm2 / (g.spacing[0] * g.spacing[1]);
          for (const v of [left, right]) {
            fillLungHoles(s.labels, hu, g.dims[0], g.dims[1], g.dims[2], v, maxHolePixels, p.ggoHu);
            if (p.closingMm > 0) closeLabel(s.labels, g, v, p.closingMm);
          }
          pasteMask(labels, volume.dims, nestBox(body.box, box), s.labels);
          check('fill');
        }
      }
      seg.lastRun = {
        airwayVoxels: airways.removedVoxels,
        airwaySlices: airways.slices,
        gasPockets: gas.pockets,
        gasVoxels: gas.removed,
        denseVoxels,
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

/** Slices within 5° of axial. */
export const AXIAL_COS = Math.cos((5 * Math.PI) / 180);

/**
 * Air inside the body, on the body's box: AIR below lungHu, AIR_LUMEN below airwayHu too. One
 * pass, and no copy of the HU data: the later steps need only these two thresholds.
 */
function airInBody(volume: Volume, bodyMask: Uint8Array, box: Box, lungHu: number, airwayHu: number): Uint8Array {
  const [nx, ny] = volume.dims;
  const [cx, cy, cz] = boxDims(box);
  const air = new Uint8Array(cx * cy * cz);
  const hu = volume.data;
  let q = 0;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const s = box.lo[0] + (box.lo[1] + j) * nx + (box.lo[2] + k) * nx * ny;
      for (let i = 0; i < cx; i++, q++) {
        const p = s + i;
        if (bodyMask[p] === 0) continue;
        const v = hu[p];
        if (v < lungHu) air[q] = v < airwayHu ? AIR_LUMEN : AIR;
      }
    }
  }
  return air;
}

/** HU on a box of the volume as Int16 (clamped), for the steps that look at density inside the lungs' box. */
export function cropHu(volume: Volume, box: Box): Int16Array {
  const [nx, ny] = volume.dims;
  const [cx, cy, cz] = boxDims(box);
  const out = new Int16Array(cx * cy * cz);
  const hu = volume.data;
  if (hu instanceof Int16Array) {
    // already in range: copy row by row
    for (let k = 0; k < cz; k++) {
      for (let j = 0; j < cy; j++) {
        const s = box.lo[0] + (box.lo[1] + j) * nx + (box.lo[2] + k) * nx * ny;
        out.set(hu.subarray(s, s + cx), (k * cy + j) * cx);
      }
    }
    return out;
  }
  let q = 0;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const s = box.lo[0] + (box.lo[1] + j) * nx + (box.lo[2] + k) * nx * ny;
      for (let i = 0; i < cx; i++, q++) {
        const v = hu[s + i];
        out[q] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
      }
    }
  }
  return out;
}
