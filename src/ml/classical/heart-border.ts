/**
 * The heart's border against the left lung, line by line along the lateral axis, carried down the
 * slices for dense-lung recovery (dense-lung.ts).
 *
 * The heart has lung density without contrast, and no fat plane need separate it from a consolidated
 * left lower lobe lying against it. Where aerated lung lies lateral to it, its border is seen: in a
 * line, the run of dense candidates that starts at the mediastinal band and ends at aerated lung.
 * Where consolidation lies lateral to it, the run goes on to the chest wall and the border is not
 * seen; a posterior run from the lingula through the heart into the consolidated lobe would then
 * take the heart as lung (phantom consolidation-left: 5–7 k voxels of heart). The heart is a smooth
 * body whose outline moves little from one slice to the next, so there its border is the one of the
 * slice above, moved as the seen part moved (the median over the lines seen on both slices), and
 * what lies medial to it is not lung.
 *
 * A border is born on a line where the run from the band ends at aerated lung and none of it was
 * recovered as lung (dense tissue between the band and the lung: the heart, hilar vessels); it is
 * carried to the slices below as long as the dense run from the band goes on, and ends where that
 * run ends (the heart's lower surface, or aerated lung beside a smaller heart). A seen border that
 * moved further than a smooth outline does from the common movement (a consolidated row ending at
 * aerated lung at the fissure) is not taken: the carried one is.
 *
 * Candidate classes are dense-lung.ts's: 0 not a candidate (the mediastinal band, the other lung),
 * 1 candidate, 2 aerated lung, 3 outside the footprint, 5 candidate beside the mediastinum.
 */
export interface LateralLines {
  /** Index step between neighbouring voxels of a line, and between neighbouring lines. */
  readonly step: number;
  readonly lineStep: number;
  /** Voxel index of each line's first voxel (medial or lateral end: see `reversed`). */
  readonly first: number;
  readonly lines: number;
  readonly length: number;
  /** The line's first voxel is its lateral end: walk it backwards. */
  readonly reversed: boolean;
}

/** Class of the voxels taken out as heart: not a candidate, and a run of candidates starting at it is not lung (like the band). */
export const MEDIASTINUM = 4;

export class MediastinalBorder {
  private readonly lines: LateralLines;
  /** Per line: how far (voxels from the line's medial end) the mediastinum reached on the slice above; −1 none. */
  private readonly border: Int32Array;
  private readonly next: Int32Array;
  /** This slice's first candidate run lateral to the band, per line ([start, end), start −1 none), and whether aerated lung ends it. */
  private readonly runStart: Int32Array;
  private readonly runEnd: Int32Array;
  private readonly seen: Uint8Array;
  /** Largest movement of the border between slices, in voxels (a smooth body's outline). */
  private readonly maxShift: number;

  constructor(lines: LateralLines, maxShiftVoxels: number) {
    this.lines = lines;
    this.border = new Int32Array(lines.lines).fill(-1);
    this.next = new Int32Array(lines.lines);
    this.runStart = new Int32Array(lines.lines);
    this.runEnd = new Int32Array(lines.lines);
    this.seen = new Uint8Array(lines.lines);
    this.maxShift = Math.max(1, Math.round(maxShiftVoxels));
  }

  private at(L: number, n: number): number {
    const { step, lineStep, first, length, reversed } = this.lines;
    return first + L * lineStep + (reversed ? length - 1 - n : n) * step;
  }

  /**
   * Before recovery on a slice: this slice's border on the lines that had one on the slice above
   * (seen, when it moved no more than a smooth outline does; else carried), and the mediastinum
   * medial to it out of the candidates (class 1 → MEDIASTINUM). Returns the voxels taken out.
   */
  mark(cls: Uint8Array): number {
    const { lines, length } = this.lines;
    const shifts: number[] = [];
    this.next.fill(-1);
    this.runStart.fill(-1);
    this.seen.fill(0);
    for (let L = 0; L < lines; L++) {
      // the first candidate run lateral to the band: it starts where the band (class 0 or 5) ends
      let n = 0;
      while (n < length && cls[this.at(L, n)] !== 1) n++;
      if (n === 0 || n === length) continue;
      const before = cls[this.at(L, n - 1)];
      if (before !== 0 && before !== 5) continue;
      let e = n;
      while (e < length && cls[this.at(L, e)] === 1) e++;
      this.runStart[L] = n;
      this.runEnd[L] = e;
      this.seen[L] = e < length && cls[this.at(L, e)] === 2 ? 1 : 0;
      if (this.seen[L] && this.border[L] >= 0) shifts.push(e - this.border[L]);
    }
    shifts.sort((a, b) => a - b);
    const shift = shifts.length > 0 ? shifts[shifts.length >> 1] : 0;
    let removed = 0;
    for (let L = 0; L < lines; L++) {
      const b = this.border[L];
      if (this.runStart[L] < 0 || b < 0) continue;
      const seenAt = this.runEnd[L];
      const e = this.seen[L] && Math.abs(seenAt - b - shift) <= this.maxShift ? seenAt : Math.min(this.runEnd[L], b + shift);
      if (e <= this.runStart[L]) continue;
      this.next[L] = e;
      for (let n = this.runStart[L]; n < e; n++) {
        cls[this.at(L, n)] = MEDIASTINUM;
        removed++;
      }
    }
    return removed;
  }

  /**
   * After recovery on the slice: a border is born where the run from the band ends at aerated lung
   * and none of it was recovered as lung (`kept`): dense tissue seen between the band and the lung.
   */
  settle(kept: Uint8Array): void {
    for (let L = 0; L < this.lines.lines; L++) {
      if (this.next[L] >= 0 || this.runStart[L] < 0 || !this.seen[L]) continue;
      let any = false;
      for (let n = this.runStart[L]; n < this.runEnd[L] && !any; n++) if (kept[this.at(L, n)] !== 0) any = true;
      if (!any) this.next[L] = this.runEnd[L];
    }
    this.border.set(this.next);
  }
}
