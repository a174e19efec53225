import { PNG } from 'pngjs';
import type { LabelInfo } from '../../core/model.ts';
import type { LabelMap, Volume } from '../../core/volume.ts';
import { drawText, fillRect, GLYPH_H, textWidth, type RgbImage } from './font.ts';
import { combinedCentroid, labelCentroids, resamplePlane, VIEW_AXES, type LabelCentroid, type ResampledPlane, type ViewName } from './reslice.ts';

/** CT display windows (centre / width, HU) as radiotherapy planning systems preset them. */
export const WINDOWS = {
  lung: { centre: -600, width: 1500 },
  soft: { centre: 40, width: 400 },
} as const;
export type WindowName = keyof typeof WINDOWS;

export interface PreviewImage {
  /** e.g. `coronal-lung` (view-window). */
  readonly name: string;
  readonly view: ViewName;
  readonly window: WindowName;
  readonly width: number;
  readonly height: number;
  readonly png: Buffer;
}

export interface PreviewOptions {
  /** Long side of each image in pixels (default 512). */
  readonly maxSide?: number;
  readonly views?: readonly ViewName[];
  readonly windows?: readonly WindowName[];
}

/** The image a report shows first: both lungs whole, top to bottom. */
export const KEY_PREVIEW = 'coronal-lung';

const LUT_MIN = -1024;
const LUT_MAX = 3071;

/** Grey level per HU from LUT_MIN to LUT_MAX (values outside are clamped): one lookup a pixel. */
function windowLut(w: { centre: number; width: number }): Uint8Array {
  const lut = new Uint8Array(LUT_MAX - LUT_MIN + 1);
  const lo = w.centre - w.width / 2;
  for (let h = LUT_MIN; h <= LUT_MAX; h++) lut[h - LUT_MIN] = Math.max(0, Math.min(255, Math.round(((h - lo) * 255) / w.width)));
  return lut;
}

function greyscale(plane: ResampledPlane, w: { centre: number; width: number }): RgbImage {
  const data = new Uint8Array(plane.width * plane.height * 3);
  const lut = windowLut(w);
  const hu = plane.hu;
  for (let p = 0, o = 0; p < hu.length; p++, o += 3) {
    const h = hu[p];
    const g = lut[h <= LUT_MIN ? 0 : h >= LUT_MAX ? LUT_MAX - LUT_MIN : (h - LUT_MIN) | 0];
    data[o] = g;
    data[o + 1] = g;
    data[o + 2] = g;
  }
  return { width: plane.width, height: plane.height, data };
}

/** Contours: a labelled pixel with a 4-neighbour of another value, two pixels thick for legibility. */
function drawContours(img: RgbImage, plane: ResampledPlane, labels: readonly LabelInfo[]): void {
  const colour = new Map(labels.map((l) => [l.value, l.color]));
  const { width: w, height: h, labels: lab } = plane;
  const edge = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const v = lab[p];
      if (v === 0 || !colour.has(v)) continue;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1 || lab[p - 1] !== v || lab[p + 1] !== v || lab[p - w] !== v || lab[p + w] !== v) edge[p] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      let v = edge[p];
      // Thicken inwards: a pixel next to an edge pixel of its own label.
      if (v === 0 && lab[p] !== 0 && ((x > 0 && edge[p - 1] === lab[p]) || (y > 0 && edge[p - w] === lab[p]))) v = lab[p];
      if (v === 0) continue;
      const c = colour.get(v)!;
      img.data[3 * p] = c[0];
      img.data[3 * p + 1] = c[1];
      img.data[3 * p + 2] = c[2];
    }
  }
}

function drawLetters(img: RgbImage, view: ViewName, scale: number): void {
  const [left, right, top, bottom] = VIEW_AXES[view].letters;
  const white = [255, 255, 255] as const;
  const m = 2 * scale;
  const midY = Math.round((img.height - GLYPH_H * scale) / 2);
  drawText(img, left, m, midY, scale, white);
  drawText(img, right, img.width - m - textWidth(right, scale), midY, scale, white);
  drawText(img, top, Math.round((img.width - textWidth(top, scale)) / 2), m, scale, white);
  drawText(img, bottom, Math.round((img.width - textWidth(bottom, scale)) / 2), img.height - m - GLYPH_H * scale, scale, white);
}

/** A bar of a round length (1, 2, 5, 10, 20 cm …) near a fifth of the width, labelled, bottom left. */
function drawScaleBar(img: RgbImage, mmPerPixel: number, scale: number): void {
  const steps = [10, 20, 50, 100, 200, 500];
  const target = (img.width / 5) * mmPerPixel;
  const mm = steps.reduce((best, s) => (Math.abs(s - target) < Math.abs(best - target) ? s : best), steps[0]);
  const px = Math.round(mm / mmPerPixel);
  const x = 3 * scale;
  const y = img.height - 3 * scale - 2 * scale;
  fillRect(img, x - 1, y - 1, px + 2, 2 * scale + 2, [0, 0, 0]);
  fillRect(img, x, y, px, 2 * scale, [255, 255, 255]);
  drawText(img, `${mm / 10} cm`, x, y - (GLYPH_H + 3) * scale, scale, [255, 255, 255]);
}

function encode(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
  // Sub filter + fast deflate: CT previews compress well enough; adaptive filtering costs 3× the time.
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 1, deflateLevel: 3 });
}

/**
 * Axial, coronal and sagittal previews through the segmented structures, each in the lung and the
 * soft-tissue window, contours in their ROI colours, orientation letters and a scale bar. Axial and
 * coronal cut through the centroid of all structures; sagittal through the largest structure's
 * centroid (the midline would show neither lung).
 */
export function renderPreviews(volume: Volume, labels: LabelMap | undefined, info: readonly LabelInfo[], opts: PreviewOptions = {}): PreviewImage[] {
  const maxSide = opts.maxSide ?? 512;
  const views = opts.views ?? (['axial', 'coronal', 'sagittal'] as const);
  const windows = opts.windows ?? (['lung', 'soft'] as const);
  const values = info.map((l) => l.value);
  const stats = labels ? labelCentroids(labels) : new Map<number, LabelCentroid>();
  const centre = combinedCentroid(volume, stats, values);
  const largest = [...values].sort((a, b) => (stats.get(b)?.voxels ?? 0) - (stats.get(a)?.voxels ?? 0))[0];
  const sagittalAt = largest !== undefined && stats.has(largest) ? stats.get(largest)!.centroid : centre;
  const textScale = Math.max(1, Math.round(maxSide / 256));
  const out: PreviewImage[] = [];
  for (const view of views) {
    const plane = resamplePlane(volume, labels, view, view === 'sagittal' ? sagittalAt : centre, maxSide);
    for (const window of windows) {
      const img = greyscale(plane, WINDOWS[window]);
      drawContours(img, plane, info);
      drawLetters(img, view, textScale);
      drawScaleBar(img, plane.mmPerPixel, textScale);
      out.push({ name: `${view}-${window}`, view, window, width: img.width, height: img.height, png: encode(img) });
    }
  }
  return out;
}
