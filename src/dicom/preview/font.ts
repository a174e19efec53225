/**
 * A 5×7 bitmap font for the few characters a preview needs (orientation letters, the scale bar's
 * length). Drawn into the RGB buffer directly: no font files, so previews look the same in a slim
 * container as on a workstation.
 */
const GLYPHS: Record<string, readonly string[]> = {
  A: ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
  F: ['11111', '10000', '10000', '11110', '10000', '10000', '10000'],
  H: ['10001', '10001', '10001', '11111', '10001', '10001', '10001'],
  I: ['01110', '00100', '00100', '00100', '00100', '00100', '01110'],
  L: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
  P: ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  S: ['01111', '10000', '10000', '01110', '00001', '00001', '11110'],
  c: ['00000', '00000', '01110', '10000', '10000', '10001', '01110'],
  m: ['00000', '00000', '11010', '10101', '10101', '10001', '10001'],
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
};

export const GLYPH_W = 5;
export const GLYPH_H = 7;

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** Row-major RGB, 3 bytes a pixel. */
  readonly data: Uint8Array;
}

/** Width in pixels of `text` drawn at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_W + 1) - 1) * scale;
}

function put(img: RgbImage, x: number, y: number, rgb: readonly [number, number, number]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 3;
  img.data[o] = rgb[0];
  img.data[o + 1] = rgb[1];
  img.data[o + 2] = rgb[2];
}

function glyphOn(g: readonly string[], gx: number, gy: number): boolean {
  return gx >= 0 && gy >= 0 && gx < GLYPH_W && gy < GLYPH_H && g[gy][gx] === '1';
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block, with a
 * one-block black outline so it reads on both lung-window black and bone white.
 */
export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, rgb: readonly [number, number, number]): void {
  for (let n = 0; n < text.length; n++) {
    const g = GLYPHS[text[n]];
    if (!g) throw new Error(`no glyph for '${text[n]}'`);
    const ox = x + n * (GLYPH_W + 1) * scale;
    for (let gy = -1; gy <= GLYPH_H; gy++) {
      for (let gx = -1; gx <= GLYPH_W; gx++) {
        let colour: readonly [number, number, number] | undefined;
        if (glyphOn(g, gx, gy)) colour = rgb;
        else if (glyphOn(g, gx - 1, gy) || glyphOn(g, gx + 1, gy) || glyphOn(g, gx, gy - 1) || glyphOn(g, gx, gy + 1)) colour = [0, 0, 0];
        if (!colour) continue;
        for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) put(img, ox + gx * scale + sx, y + gy * scale + sy, colour);
      }
    }
  }
}

/** A filled rectangle (clipped to the image). */
export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, rgb: readonly [number, number, number]): void {
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) put(img, xx, yy, rgb);
}
