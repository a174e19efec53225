import type { VolumeGeometry } from '../../core/volume.ts';
import { indexToPatient } from '../../core/volume.ts';
import type { RunComponents } from '../morphology/runs.ts';
import { paintRuns, RunLabeler } from '../morphology/runs.ts';
import type { ClassicalParams } from './manifest.ts';

export interface AirwayResult {
  /** Voxels removed from the air mask (trachea and main bronchi). */
  readonly removedVoxels: number;
  /** Slices in which an airway cross-section was found. */
  readonly slices: number;
}

/**
 * Values of the air mask the classical steps share: 0 = not air, AIR = below lungHu inside the
 * body, AIR_LUMEN = also below airwayHu (where an airway lumen is looked for).
 */
export const AIR = 1;
export const AIR_LUMEN = 2;

/** Slice indices from the patient's head towards the feet (LPS +z is superior). */
function superiorToInferior(g: VolumeGeometry): number[] {
  const nz = g.dims[2];
  const ks = Array.from({ length: nz }, (_, k) => k);
  const up = indexToPatient(g, 0, 0, nz - 1)[2] > indexToPatient(g, 0, 0, 0)[2];
  return up ? ks.reverse() : ks;
}

/**
 * Remove the trachea and main bronchi from the air-inside-body mask (values AIR / AIR_LUMEN), in place.
 *
 * They are air that connects the two lungs. Found slice by slice from the head down: a trachea
 * candidate is a small round air cross-section near the midline in the upper half of the air mask's
 * extent; it is followed downwards through every small component that overlaps it in the slice
 * above (the carina makes two: the main bronchi). A branch stops where its cross-section grows
 * beyond `airwayMaxAreaMm2` — there it has entered the lung. The longest track is the airway
 * (oesophageal air is shorter). Bronchi inside the lung that this removes are enclosed by lung and
 * come back with the per-slice hole filling.
 */
export function removeAirways(air: Uint8Array, g: VolumeGeometry, midlineX: number, params: ClassicalParams): AirwayResult {
  const [nx, ny] = g.dims;
  const sxy = nx * ny;
  const pixelMm2 = g.spacing[0] * g.spacing[1];
  const maxArea = params.airwayMaxAreaMm2 / pixelMm2;
  const minArea = params.airwayMinAreaMm2 / pixelMm2;
  const order = superiorToInferior(g);

  // Only look for the start of the trachea in the upper half of the air mask's extent.
  const withAir = order.filter((k) => {
    const off = k * sxy;
    for (let p = 0; p < sxy; p++) if (air[off + p] !== 0) return true;
    return false;
  });
  if (withAir.length === 0) return { removedVoxels: 0, slices: 0 };
  const searchUntil = order.indexOf(withAir[Math.floor(withAir.length / 2)]);

  const labeler = new RunLabeler();
  const sliceMask = new Uint8Array(sxy);
  const slabMm = Math.abs(g.spacing[2]);
  const labelSlice = (k: number): RunComponents => {
    const off = k * sxy;
    // the lumen proper (AIR_LUMEN, the tighter threshold): partial-volume voxels would join it to the lung
    for (let p = 0; p < sxy; p++) sliceMask[p] = air[off + p] === AIR_LUMEN ? 1 : 0;
    return labeler.label(sliceMask, nx, ny, 1);
  };

  type Track = { k: number; mask: Uint8Array }[];
  const follow = (n: number, start: Uint8Array): Track => {
    let cur = start;
    const track: Track = [{ k: order[n], mask: cur }];
    // follow it down through small cross-sections that overlap it in the slice above
    for (let m = n + 1; m < order.length; m++) {
      const rc = labelSlice(order[m]);
      const take = new Uint8Array(rc.count + 1);
      let any = false;
      for (let r = 0; r < rc.nRuns; r++) {
        const l = rc.label[r];
        if (take[l] !== 0 || rc.sizes[l] > maxArea) continue;
        const base = rc.line[r] * nx;
        for (let p = base + rc.start[r]; p < base + rc.end[r]; p++) {
          if (cur[p] !== 0) {
            take[l] = 1;
            any = true;
            break;
          }
        }
      }
      if (!any) break; // every branch has entered the lung (or the air ended)
      const next = new Uint8Array(sxy);
      paintRuns(rc, nx, take, next, 1);
      track.push({ k: order[m], mask: next });
      cur = next;
    }
    return track;
  };

  // The trachea is the longest such track. Oesophageal air or a skin fold can also look like a
  // small round midline air pocket in a slice, but it does not run on for many centimetres.
  let best: Track | undefined;
  let tries = 0;
  for (let n = 0; n <= searchUntil && tries < MAX_TRACKS; ) {
    const rc0 = labelSlice(order[n]);
    const starts = tracheaCandidates(rc0, g, order[n], midlineX, minArea, maxArea, params.airwayMaxOffsetMm);
    if (starts.length === 0) {
      n++;
      continue;
    }
    const masks = starts.map((l) => {
      const sel = new Uint8Array(rc0.count + 1);
      sel[l] = 1;
      const m = new Uint8Array(sxy);
      paintRuns(rc0, nx, sel, m, 1);
      return m;
    });
    let longest = 1;
    for (const m of masks) {
      const track = follow(n, m);
      tries++;
      longest = Math.max(longest, track.length);
      if (track.length * slabMm >= params.airwayMinLengthMm && (best === undefined || track.length > best.length)) best = track;
    }
    n += longest; // the slices a track covered hold no new start
  }
  if (best === undefined) return { removedVoxels: 0, slices: 0 };

  // remove the lumen and its partial-volume rim (the airway wall's blurred edge)
  const rim = Math.max(1, Math.ceil(params.airwayRimMm / Math.min(g.spacing[0], g.spacing[1])));
  let removed = 0;
  for (const t of best) {
    const off = t.k * sxy;
    const grown = dilateSquare(t.mask, nx, ny, rim);
    for (let p = 0; p < sxy; p++) {
      if (grown[p] !== 0 && air[off + p] !== 0) {
        air[off + p] = 0;
        removed++;
      }
    }
  }
  return { removedVoxels: removed, slices: best.length };
}

/** Tracks tried before settling on the longest (bounds the work on odd scans). */
const MAX_TRACKS = 6;

/** 2D dilation by a (2r+1)² square: separable running max along rows, then columns. */
function dilateSquare(mask: Uint8Array, nx: number, ny: number, r: number): Uint8Array {
  const rows = new Uint8Array(mask.length);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (mask[i + j * nx] === 0) continue;
      for (let d = Math.max(0, i - r); d <= Math.min(nx - 1, i + r); d++) rows[d + j * nx] = 1;
    }
  }
  const out = new Uint8Array(mask.length);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (rows[i + j * nx] === 0) continue;
      for (let d = Math.max(0, j - r); d <= Math.min(ny - 1, j + r); d++) out[i + d * nx] = 1;
    }
  }
  return out;
}

/** Components that look like the trachea (small, round, near the midline), nearest the midline first, at most three. */
function tracheaCandidates(rc: RunComponents, g: VolumeGeometry, k: number, midlineX: number, minArea: number, maxArea: number, maxOffsetMm: number): number[] {
  const n = rc.count + 1;
  const sumI = new Float64Array(n);
  const sumJ = new Float64Array(n);
  const minI = new Int32Array(n).fill(1 << 30);
  const maxI = new Int32Array(n).fill(-1);
  const minJ = new Int32Array(n).fill(1 << 30);
  const maxJ = new Int32Array(n).fill(-1);
  for (let r = 0; r < rc.nRuns; r++) {
    const l = rc.label[r];
    const j = rc.line[r];
    const a = rc.start[r];
    const b = rc.end[r];
    sumI[l] += ((a + b - 1) * (b - a)) / 2;
    sumJ[l] += j * (b - a);
    if (a < minI[l]) minI[l] = a;
    if (b - 1 > maxI[l]) maxI[l] = b - 1;
    if (j < minJ[l]) minJ[l] = j;
    if (j > maxJ[l]) maxJ[l] = j;
  }
  const found: { l: number; offset: number }[] = [];
  for (let l = 1; l < n; l++) {
    const a = rc.sizes[l];
    if (a < minArea || a > maxArea) continue;
    // round: fills at least 40% of a bounding box no more than 3:1 (a disc fills 79% of 1:1)
    const w = maxI[l] - minI[l] + 1;
    const h = maxJ[l] - minJ[l] + 1;
    if (a < 0.4 * w * h || Math.max(w, h) > 3 * Math.min(w, h)) continue;
    const x = indexToPatient(g, sumI[l] / a, sumJ[l] / a, k)[0];
    const offset = Math.abs(x - midlineX);
    if (offset <= maxOffsetMm) found.push({ l, offset });
  }
  return found.sort((a, b) => a.offset - b.offset).slice(0, 3).map((f) => f.l);
}
