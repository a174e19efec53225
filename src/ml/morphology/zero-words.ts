/**
 * Scanning label maps and masks, which are mostly zeros: zero bytes skipped four at a time through
 * a 32-bit view of the same memory (used where only non-zero voxels matter: bounding boxes, runs
 * of a non-zero set).
 */

/** The 32-bit view of `a` (word w = bytes 4w…4w+3), or undefined when `a` does not start 4-aligned. */
export function zeroWordsView(a: Uint8Array): Uint32Array | undefined {
  return a.byteOffset % 4 === 0 ? new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2) : undefined;
}

/** Index of the first non-zero byte in [from, to), or −1. */
export function firstNonZero(a: Uint8Array, words: Uint32Array | undefined, from: number, to: number): number {
  let p = from;
  if (words) {
    while (p < to && (p & 3) !== 0) {
      if (a[p] !== 0) return p;
      p++;
    }
    if (p < to) {
      // p is word-aligned here
      let w = p >>> 2;
      const wEnd = to >>> 2;
      while (w < wEnd && words[w] === 0) w++;
      p = w << 2;
    }
  }
  for (; p < to; p++) if (a[p] !== 0) return p;
  return -1;
}

/** Index of the last non-zero byte in [from, to); the caller knows there is one at `from` or later. */
export function lastNonZero(a: Uint8Array, words: Uint32Array | undefined, from: number, to: number): number {
  let p = to - 1;
  if (words) {
    while (p >= from && ((p + 1) & 3) !== 0) {
      if (a[p] !== 0) return p;
      p--;
    }
    let w = (p + 1) >>> 2; // words [.., w) end at p + 1
    const wLo = Math.ceil(from / 4);
    while (w > wLo && words[w - 1] === 0) w--;
    p = Math.min(p, (w << 2) - 1);
  }
  for (; p >= from; p--) if (a[p] !== 0) return p;
  return -1;
}
