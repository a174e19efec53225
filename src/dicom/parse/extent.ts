/**
 * A structural walk over the top-level elements of a dataset (PS3.5 7.1, 7.5), only to find
 * truncation: dcmjs pads a value that runs past the end of the file with zeros instead of failing,
 * which would turn a truncated slice into a silently wrong image. Each step advances at least 8
 * bytes, so the walk is bounded by the file size.
 */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

/** Where a top-level native Pixel Data (7FE0,0010) element sits: its header start and its value. */
export interface PixelDataLocation {
  readonly elementStart: number;
  readonly valueStart: number;
  readonly length: number;
}

export type ExtentVerdict =
  | { kind: 'ok'; pixelData?: PixelDataLocation }
  | { kind: 'truncated'; tag: string; need: number; have: number; elementStart?: number; valueStart?: number }
  | { kind: 'unsure' };

class Unsure extends Error {}

function tagString(g: number, e: number): string {
  return `(${g.toString(16).padStart(4, '0').toUpperCase()},${e.toString(16).padStart(4, '0').toUpperCase()})`;
}

export function checkDatasetExtent(bytes: Uint8Array, start: number, little: boolean, implicit: boolean): ExtentVerdict {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;

  // Skip the items of an undefined-length sequence or encapsulated Pixel Data; returns the offset after it.
  // `owner` is set for the items of a top-level element: running out of bytes there is truncation
  // (an encapsulated Pixel Data cut short), deeper down it may be our misreading.
  const truncated = (tag: string, need: number, have: number, at?: { elementStart: number; valueStart: number }) =>
    Object.assign(new Unsure(), { truncated: { tag, need, have, ...at } });
  const skipItems = (off: number, le: boolean, imp: boolean, depth: number, owner?: string): number => {
    if (depth > 32) throw new Unsure();
    for (;;) {
      if (owner && off === end) return off; // items complete, only the delimiter missing: tolerated
      if (off + 8 > end) {
        if (owner) throw truncated(owner, 8, end - off);
        throw new Unsure();
      }
      const g = dv.getUint16(off, le);
      const e = dv.getUint16(off + 2, le);
      const len = dv.getUint32(off + 4, le);
      if (g !== 0xfffe) throw new Unsure();
      off += 8;
      if (e === 0xe0dd) return off; // sequence delimitation item
      if (e !== 0xe000) throw new Unsure();
      if (len === UNDEFINED) off = skipElements(off, le, imp, depth + 1, true);
      else {
        if (off + len > end) {
          if (owner) throw truncated(owner, len, end - off);
          throw new Unsure();
        }
        off += len;
      }
    }
  };

  let pixelData: PixelDataLocation | undefined;
  // Walk elements until the end (top level) or an item delimitation item (nested).
  const skipElements = (off: number, le: boolean, imp: boolean, depth: number, nested: boolean): number => {
    while (off < end) {
      if (off + 8 > end) {
        if (nested) throw new Unsure();
        return off; // a few trailing bytes: ignored by every reader
      }
      const g = dv.getUint16(off, le);
      const e = dv.getUint16(off + 2, le);
      if (g === 0xfffe && e === 0xe00d) return off + 8; // item delimitation item
      let len: number;
      let head: number;
      let vr = '';
      if (imp) {
        len = dv.getUint32(off + 4, le);
        head = 8;
      } else {
        vr = String.fromCharCode(bytes[off + 4], bytes[off + 5]);
        if (LONG_VRS.has(vr)) {
          if (off + 12 > end) throw new Unsure();
          len = dv.getUint32(off + 8, le);
          head = 12;
        } else {
          len = dv.getUint16(off + 6, le);
          head = 8;
        }
      }
      off += head;
      if (len === UNDEFINED) {
        // PS3.5 6.2.2: an undefined-length UN holds implicit VR little endian content.
        off = skipItems(off, vr === 'UN' ? true : le, vr === 'UN' ? true : imp, depth + 1, nested ? undefined : tagString(g, e));
        continue;
      }
      if (off + len > end) {
        if (nested) throw new Unsure();
        throw truncated(tagString(g, e), len, end - off, { elementStart: off - head, valueStart: off });
      }
      if (!nested && g === 0x7fe0 && e === 0x0010) pixelData = { elementStart: off - head, valueStart: off, length: len };
      off += len;
    }
    return off;
  };

  try {
    skipElements(start, little, implicit, 0, false);
    return { kind: 'ok', pixelData };
  } catch (e) {
    const t = (e as { truncated?: { tag: string; need: number; have: number; elementStart?: number; valueStart?: number } }).truncated;
    return t ? { kind: 'truncated', ...t } : { kind: 'unsure' };
  }
}
