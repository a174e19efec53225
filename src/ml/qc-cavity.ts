import type { LabelMap, Volume } from '../core/volume.ts';
import { indexToPatient, voxelVolumeMl } from '../core/volume.ts';
import { labelComponents3d } from './morphology/components.ts';

/**
 * What a segmenter left out of the pleural cavity: airless tissue that the lung of one side
 * encloses on the slice (lung of that side to its left and right on its row, and in front of and
 * behind it on its column) but no lung label covers. Consolidation, atelectasis, a tumour inside
 * the lung or a collapsed segment looks like that when a segmenter keeps only aerated lung; by
 * the usual OAR convention (RTOG 1106 / TG-263 "Lung": collapsed and consolidated lung is lung)
 * it belongs in the contour.
 *
 * Not counted: a pleural effusion. Fluid is dependent: it lies behind the lung (outside the
 * lung's column span) and reads as water, about 0–20 HU for a transudate (Abramowitz Y et al.,
 * AJR 2009;192:618); an enclosed region with fluid density behind the lung's centre is left to it.
 * The mediastinum and the heart are not enclosed by one lung on its row (the other side is
 * medial), the chest wall is outside both spans. Limitation: a consolidation that replaces the
 * lung right up to the chest wall all round is not enclosed on its slices and is not seen here.
 */
export interface CavityLimits {
  /** HU range of airless tissue (aerated lung is below it, bone above it). */
  readonly airlessHu: readonly [number, number];
  /** A component's mean HU in this range, behind the lung's centre, is read as effusion. */
  readonly fluidHu: readonly [number, number];
  /** Components smaller than this (vessels, fissures, partial-volume rims) are ignored (mL). */
  readonly minComponentMl: number;
}

export interface MissedRegion {
  readonly roiName: string;
  readonly ml: number;
  readonly meanHu: number;
}

export interface CavityFinding {
  /** Missed airless lung per side (mL, components ≥ minComponentMl). */
  readonly missedMl: Record<string, number>;
  /** Enclosed fluid-density regions behind the lung, read as effusion (not counted), per side (mL). */
  readonly effusionMl: Record<string, number>;
  readonly regions: readonly MissedRegion[];
}

export function missedCavity(volume: Volume, labels: LabelMap, sides: readonly { value: number; roiName: string }[], lim: CavityLimits): CavityFinding {
  const [nx, ny, nz] = labels.dims;
  const plane = nx * ny;
  const missedMl: Record<string, number> = {};
  const effusionMl: Record<string, number> = {};
  const regions: MissedRegion[] = [];
  const vml = voxelVolumeMl(labels);
  const rowLo = new Int32Array(ny);
  const rowHi = new Int32Array(ny);
  const colLo = new Int32Array(nx);
  const colHi = new Int32Array(nx);
  for (const side of sides) {
    missedMl[side.roiName] = 0;
    effusionMl[side.roiName] = 0;
    const cand = new Uint8Array(labels.data.length);
    let any = false;
    let ly = 0;
    let ln = 0;
    for (let k = 0; k < nz; k++) {
      const o = k * plane;
      rowLo.fill(nx);
      rowHi.fill(-1);
      colLo.fill(ny);
      colHi.fill(-1);
      let n = 0;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          if (labels.data[o + j * nx + i] !== side.value) continue;
          n++;
          ly += j;
          if (i < rowLo[j]) rowLo[j] = i;
          if (i > rowHi[j]) rowHi[j] = i;
          if (j < colLo[i]) colLo[i] = j;
          if (j > colHi[i]) colHi[i] = j;
        }
      }
      ln += n;
      if (n === 0) continue;
      for (let j = 0; j < ny; j++) {
        for (let i = rowLo[j] + 1; i < rowHi[j]; i++) {
          const p = o + j * nx + i;
          if (labels.data[p] !== 0 || j <= colLo[i] || j >= colHi[i]) continue;
          const hu = volume.data[p];
          if (hu >= lim.airlessHu[0] && hu <= lim.airlessHu[1]) {
            cand[p] = 1;
            any = true;
          }
        }
      }
    }
    if (!any) continue;
    const lungCentreJ = ln > 0 ? ly / ln : ny / 2;
    const comps = labelComponents3d(cand, labels.dims, 6);
    const sum = new Float64Array(comps.count + 1);
    const sumJ = new Float64Array(comps.count + 1);
    for (let p = 0; p < cand.length; p++) {
      const c = comps.labels[p];
      if (c === 0) continue;
      sum[c] += volume.data[p];
      sumJ[c] += ((p % plane) / nx) | 0;
    }
    // "Behind" in patient terms: compare the component's and the lung's centres along LPS +y.
    const yAt = (j: number) => indexToPatient(labels, 0, j, 0)[1];
    for (let c = 1; c <= comps.count; c++) {
      const ml = comps.sizes[c] * vml;
      if (ml < lim.minComponentMl) continue;
      const meanHu = sum[c] / comps.sizes[c];
      const behind = yAt(sumJ[c] / comps.sizes[c]) > yAt(lungCentreJ);
      if (behind && meanHu >= lim.fluidHu[0] && meanHu <= lim.fluidHu[1]) {
        effusionMl[side.roiName] += ml;
        continue;
      }
      missedMl[side.roiName] += ml;
      regions.push({ roiName: side.roiName, ml, meanHu });
    }
  }
  return { missedMl, effusionMl, regions };
}
