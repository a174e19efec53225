import type { LabelMap, Volume } from '../core/volume.ts';
import { indexToPatient, voxelVolumeMl } from '../core/volume.ts';
import { cropHu } from './classical/lung-segmenter.ts';
import { boundingBox, boxDims, boxGeometry, cropMask } from './morphology/crop.ts';
import { RunLabeler } from './morphology/runs.ts';

/**
 * What a segmenter left out of the pleural cavity: airless tissue that the lung of one side
 * encloses (lung of that side to its left and right on its row, in front of and behind it on its
 * column, above it, and below most of the region) but no lung label covers. Consolidation, atelectasis, a tumour inside
 * the lung or a collapsed segment looks like that when a segmenter keeps only aerated lung; by
 * the usual OAR convention (RTOG 1106 / TG-263 "Lung": collapsed and consolidated lung is lung)
 * it belongs in the contour.
 *
 * Not counted: a pleural effusion. Fluid is dependent: it lies behind the lung (outside the
 * lung's column span) and reads as water, about 0–20 HU for a transudate (Abramowitz Y et al.,
 * AJR 2009;192:618); an enclosed region with fluid density behind the lung's centre is left to it.
 * The mediastinum and the heart are not enclosed by one lung on its row (the other side is
 * medial), the chest wall is outside both spans. The domes of the diaphragm are enclosed on the
 * slices through the costophrenic recesses, but no lung lies below them: hence "below most of the
 * region" (without it a healthy lung read ~165 mL missed, all of it dome). Limitation: a consolidation
 * that replaces the lung up to the chest wall or rests on the diaphragm is not enclosed and is
 * not seen here; qc-dense.ts looks there.
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
  const missedMl: Record<string, number> = {};
  const effusionMl: Record<string, number> = {};
  const regions: MissedRegion[] = [];
  for (const side of sides) {
    missedMl[side.roiName] = 0;
    effusionMl[side.roiName] = 0;
  }
  // everything enclosed by a lung lies inside the lungs' box: work there only
  const box = boundingBox(labels.data, labels.dims, 0);
  if (!box) return { missedMl, effusionMl, regions };
  const dims = boxDims(box);
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const lab = cropMask(labels.data, labels.dims, box);
  const hu = cropHu(volume, box);
  const g = boxGeometry(labels, box);
  const vml = voxelVolumeMl(labels);
  const cand = new Uint8Array(lab.length);
  const labeler = new RunLabeler();
  const span = new Spans(nx, ny);
  // "Behind" in patient terms: compare the component's and the lung's centres along LPS +y.
  const yAt = (j: number) => indexToPatient(g, 0, j, 0)[1];
  for (const side of sides) {
    const { kLo, kHi, centreJ } = columnSpans(lab, dims, side.value);
    cand.fill(0);
    let any = false;
    for (let k = 0; k < nz; k++) {
      const o = k * plane;
      if (!span.of(lab, o, side.value)) continue;
      for (let j = 0; j < ny; j++) {
        for (let i = span.rowLo[j] + 1; i < span.rowHi[j]; i++) {
          const q = j * nx + i;
          const p = o + q;
          if (lab[p] !== 0 || j <= span.colLo[i] || j >= span.colHi[i] || k >= kHi[q]) continue;
          const h = hu[p];
          if (h >= lim.airlessHu[0] && h <= lim.airlessHu[1]) {
            cand[p] = 1;
            any = true;
          }
        }
      }
    }
    if (!any) continue;
    const rc = labeler.label(cand, nx, ny, nz);
    const sum = new Float64Array(rc.count + 1);
    const sumJ = new Float64Array(rc.count + 1);
    const withLungBelow = new Float64Array(rc.count + 1);
    for (let r = 0; r < rc.nRuns; r++) {
      const l = rc.label[r];
      const k = Math.floor(rc.line[r] / ny);
      const base = rc.line[r] * nx;
      for (let p = base + rc.start[r]; p < base + rc.end[r]; p++) {
        sum[l] += hu[p];
        if (k > kLo[p - k * plane]) withLungBelow[l]++;
      }
      sumJ[l] += (rc.line[r] % ny) * (rc.end[r] - rc.start[r]);
    }
    for (let c = 1; c <= rc.count; c++) {
      const ml = rc.sizes[c] * vml;
      // a dome under the lung: lung above it, none below (a region inside the lung has lung below most of it)
      if (ml < lim.minComponentMl || withLungBelow[c] < 0.5 * rc.sizes[c]) continue;
      const meanHu = sum[c] / rc.sizes[c];
      const behind = yAt(sumJ[c] / rc.sizes[c]) > yAt(centreJ);
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

/** Per (i, j) column: the lowest and highest slice holding the label (kLo > kHi where none); the label's mean row. */
function columnSpans(lab: Uint8Array, dims: readonly [number, number, number], value: number): { kLo: Int32Array; kHi: Int32Array; centreJ: number } {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const kLo = new Int32Array(plane).fill(nz);
  const kHi = new Int32Array(plane).fill(-1);
  let sj = 0;
  let n = 0;
  for (let k = 0; k < nz; k++) {
    const o = k * plane;
    for (let q = 0; q < plane; q++) {
      if (lab[o + q] !== value) continue;
      if (k < kLo[q]) kLo[q] = k;
      kHi[q] = k;
      sj += (q / nx) | 0;
      n++;
    }
  }
  return { kLo, kHi, centreJ: n > 0 ? sj / n : ny / 2 };
}

/** The extent of a label on one slice: first and last voxel of every row and of every column. */
class Spans {
  readonly rowLo: Int32Array;
  readonly rowHi: Int32Array;
  readonly colLo: Int32Array;
  readonly colHi: Int32Array;
  private readonly nx: number;
  private readonly ny: number;

  constructor(nx: number, ny: number) {
    this.nx = nx;
    this.ny = ny;
    this.rowLo = new Int32Array(ny);
    this.rowHi = new Int32Array(ny);
    this.colLo = new Int32Array(nx);
    this.colHi = new Int32Array(nx);
  }

  /** Fill the spans of `value` on the slice at offset `o`; false when the slice does not hold it. */
  of(lab: Uint8Array, o: number, value: number): boolean {
    const { nx, ny } = this;
    this.rowLo.fill(nx);
    this.rowHi.fill(-1);
    this.colLo.fill(ny);
    this.colHi.fill(-1);
    let any = false;
    for (let j = 0; j < ny; j++) {
      const base = o + j * nx;
      for (let i = 0; i < nx; i++) {
        if (lab[base + i] !== value) continue;
        any = true;
        if (i < this.rowLo[j]) this.rowLo[j] = i;
        this.rowHi[j] = i;
        if (j < this.colLo[i]) this.colLo[i] = j;
        this.colHi[i] = j;
      }
    }
    return any;
  }
}
