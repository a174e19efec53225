import { Abnormal } from './abnormal.ts';
import type { PhantomPathology, PhantomTrap } from './options.ts';
import { T, type Tissue } from './tissues.ts';

/**
 * The chest model in patient coordinates (LPS mm: +x patient left, +y posterior, +z superior),
 * centred on the mid-line. It is evaluated row by row: the phantom's rows always run along ±x, so
 * y and z are constant along a row and every structure reduces to x-ranges or cheap point tests.
 */
const BODY_A = 170; // half-width (left-right)
const BODY_B = 120; // half-depth (antero-posterior)
const NECK_Z = 150;
const LUNG_Y = 5;
const LUNG_AY = 88;
const LUNG_X = 80;
const LUNG_TAPER_FROM = 40; // z where the apex taper starts
const LUNG_APEX = 135;
const CARINA: V = [0, 18, 55];
const HILUM_R: V = [-58, 22, 30];
const HILUM_L: V = [60, 24, 20];

type V = [number, number, number];
interface Capsule {
  a: V;
  b: V;
  r: number;
  lumen: Tissue;
}
interface Sphere {
  c: V;
  r: number;
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AnatomyOptions {
  readonly seed: number;
  readonly anteriorJunction: boolean;
  /** Prone patients lie on the table with their front: the table is anterior (−y). */
  readonly prone: boolean;
  readonly traps?: readonly PhantomTrap[];
  readonly pathology?: readonly PhantomPathology[];
}

export class ChestModel {
  private readonly junction: boolean;
  private readonly tableY: number;
  private readonly airways: Capsule[];
  private readonly vessels: Sphere[];
  private readonly vesselBuckets = new Map<number, Sphere[]>();
  private readonly abnormal: Abnormal;
  private static readonly BUCKET_MM = 8;

  constructor(o: AnatomyOptions) {
    this.junction = o.anteriorJunction;
    this.tableY = o.prone ? -142 : 142;
    this.abnormal = new Abnormal(o.traps ?? [], o.pathology ?? [], o.prone);
    this.airways = [
      { a: CARINA, b: [0, 18, 400], r: 9, lumen: T.TRACHEA },
      { a: CARINA, b: HILUM_R, r: 6.5, lumen: T.BRONCHUS_R },
      { a: CARINA, b: HILUM_L, r: 6, lumen: T.BRONCHUS_L },
    ];
    this.vessels = this.growVessels(prng(o.seed));
    for (const s of this.vessels) {
      const lo = Math.floor((s.c[2] - s.r) / ChestModel.BUCKET_MM);
      const hi = Math.floor((s.c[2] + s.r) / ChestModel.BUCKET_MM);
      for (let b = lo; b <= hi; b++) {
        let list = this.vesselBuckets.get(b);
        if (!list) this.vesselBuckets.set(b, (list = []));
        list.push(s);
      }
    }
  }

  /** Lung taper towards the apex: 1 in the mid-chest, 0 at the apex. */
  private static taper(z: number): number {
    if (z <= LUNG_TAPER_FROM) return 1;
    const u = (z - LUNG_TAPER_FROM) / (LUNG_APEX - LUNG_TAPER_FROM);
    return u >= 1 ? 0 : Math.sqrt(1 - u * u);
  }

  /** Diaphragm dome: higher on the right (liver), lowest at the costophrenic angles. */
  private static domeZ(side: 1 | -1, rn2: number): number {
    return (side > 0 ? -150 : -140) + 50 * (1 - rn2);
  }

  /** Height of the lung base (diaphragm) above the point (x, y) of the lower chest. */
  private baseZ(x: number, y: number): number {
    const side = x >= 0 ? 1 : -1;
    const dx = (x - side * LUNG_X) / (side > 0 ? 62 : 68);
    const dy = (y - LUNG_Y) / LUNG_AY;
    return ChestModel.domeZ(side, dx * dx + dy * dy);
  }

  /** Is (x, y, z) inside the lung of `side` (+1 = patient left, -1 = right), before other organs are painted? */
  inLung(side: 1 | -1, x: number, y: number, z: number): boolean {
    const s = ChestModel.taper(z);
    if (s <= 0) return false;
    const ax = (side > 0 ? 62 : 68) * s;
    const ay = LUNG_AY * s;
    const junction = this.junction && y < -60 && y > -95 && z > -70 && z < 100;
    // Anterior junction: medial to the lung's centre line the lung reaches the mid-line.
    const dx = junction && side * x >= 0 && side * x < LUNG_X ? 0 : (x - side * LUNG_X) / ax;
    const dy = (y - LUNG_Y) / ay;
    const rn2 = dx * dx + dy * dy;
    if (rn2 > 1) return false;
    if (z < ChestModel.domeZ(side, rn2)) return false;
    const bx = x / BODY_A;
    const by = y / BODY_B;
    if (bx * bx + by * by > 0.8 * 0.8) return false; // inside the rib cage
    const medial = junction ? 0 : 18;
    return side > 0 ? x >= medial && (medial > 0 || x >= 0) : x <= -medial && (medial > 0 || x < 0);
  }

  private growVessels(rand: () => number): Sphere[] {
    const out: Sphere[] = [];
    const branch = (side: 1 | -1, p: V, d: V, r: number, depth: number) => {
      const len = 15 + 25 * rand();
      const step = Math.max(0.7, r * 0.6);
      let q: V = p;
      for (let t = 0; t <= len; t += step) {
        const next: V = [p[0] + d[0] * t, p[1] + d[1] * t, p[2] + d[2] * t];
        if (!this.inLung(side, next[0], next[1], next[2])) break;
        q = next;
        out.push({ c: q, r });
      }
      if (depth >= 7 || r * 0.75 < 0.6) return;
      for (let c = 0; c < 2; c++) {
        // Children bend away from the parent and are re-aimed outward (away from the hilum).
        const j: V = [d[0] + (rand() - 0.5) * 1.2 + side * 0.15, d[1] + (rand() - 0.5) * 1.2, d[2] + (rand() - 0.5) * 1.2];
        const n = Math.hypot(j[0], j[1], j[2]);
        branch(side, q, [j[0] / n, j[1] / n, j[2] / n], r * 0.75, depth + 1);
      }
    };
    for (const [side, hilum] of [[1, HILUM_L], [-1, HILUM_R]] as const) {
      const start: V = [hilum[0] + side * 12, hilum[1], hilum[2]];
      for (let i = 0; i < 10; i++) {
        // Primary branches fan out over the lung: up, down, lateral, front and back.
        const el = -1.2 + (2.4 * i) / 9 + (rand() - 0.5) * 0.2;
        const az = (rand() - 0.5) * 2.2;
        const d: V = [side * Math.cos(el) * Math.cos(az) * 0.8, Math.cos(el) * Math.sin(az), Math.sin(el) * 1.4];
        const n = Math.hypot(d[0], d[1], d[2]);
        branch(side, start, [d[0] / n, d[1] / n, d[2] / n], 4.5, 0);
      }
    }
    return out;
  }

  /**
   * Paint one image row: voxel i lies at x = x0 + i*dx (y, z fixed). `row` receives tissue codes.
   */
  paintRow(y: number, z: number, x0: number, dx: number, row: Uint8Array): void {
    const n = row.length;
    row.fill(T.AIR);
    // i-range of the x-interval [xa, xb].
    const span = (xa: number, xb: number): [number, number] => {
      let a = (xa - x0) / dx;
      let b = (xb - x0) / dx;
      if (a > b) [a, b] = [b, a];
      return [Math.max(0, Math.ceil(a)), Math.min(n - 1, Math.floor(b))];
    };
    const fill = (xa: number, xb: number, t: Tissue) => {
      const [a, b] = span(xa, xb);
      for (let i = a; i <= b; i++) row[i] = t;
    };
    const ellipse = (cx: number, cy: number, a: number, b: number, t: Tissue) => {
      const v = (y - cy) / b;
      if (v * v < 1) {
        const h = a * Math.sqrt(1 - v * v);
        fill(cx - h, cx + h, t);
      }
    };
    // Table under the patient: posterior for supine, anterior for prone (not part of the body).
    if (Math.abs(y - this.tableY) <= 12) fill(-250, 250, Math.abs(y - this.tableY) > 10 ? T.TABLE_SKIN : T.TABLE);
    // Body outline: chest ellipse, narrowing to the neck above NECK_Z.
    const neck = z > NECK_Z;
    const A = neck ? 65 : BODY_A;
    const B = neck ? 60 : BODY_B;
    const cyBody = neck ? 15 : 0;
    ellipse(0, cyBody, A, B, T.FAT);
    ellipse(0, cyBody, A - 14, B - 12, T.MUSCLE);
    ellipse(0, cyBody, A - 24, B - 20, T.SOFT);
    if (!neck) {
      // Liver under the right dome.
      const lz = (z + 165) / 75;
      if (lz * lz < 1) ellipse(-55, 10, 115 * Math.sqrt(1 - lz * lz), 85 * Math.sqrt(1 - lz * lz), T.LIVER);
      if (this.abnormal.any) {
        for (let i = 0; i < n; i++) {
          const x = x0 + i * dx;
          const t = this.abnormal.abdomen(x, y, z, this.baseZ(x, y));
          if (t !== undefined) row[i] = t;
        }
      }
      this.paintRibs(y, z, x0, dx, row, span);
      this.paintLungs(y, z, x0, dx, row, span);
      // Heart (paints over lung: the cardiac notch), descending aorta.
      const hz = (z + 65) / 55;
      if (hz * hz < 1) ellipse(22, -30, 68 * Math.sqrt(1 - hz * hz), 55 * Math.sqrt(1 - hz * hz), T.HEART);
      if (z < 60) ellipse(24, 48, 12, 12, T.AORTA);
    }
    // Spine: vertebral body (cortex + marrow, discs every 28 mm), arch, canal, spinous process.
    const disc = ((z % 28) + 28) % 28 < 5;
    ellipse(0, 72, 20, 20, T.BONE);
    ellipse(0, 72, 17, 17, disc ? T.DISC : T.MARROW);
    ellipse(0, 104, 16, 16, T.BONE);
    ellipse(0, 104, 9, 9, T.CANAL);
    if (y > 118 && y < 138) fill(-4, 4, T.BONE);
    // Sternum.
    if (!neck && z > -75 && z < 110 && y > -BODY_B + 14 && y < -BODY_B + 26) fill(-16, 16, T.BONE);
    this.paintAirways(y, z, x0, dx, row, span);
  }

  private paintRibs(y: number, z: number, x0: number, dx: number, row: Uint8Array, span: (a: number, b: number) => [number, number]): void {
    // Ribs: a band of the chest wall (0.82–0.88 of the body outline), descending from the spine
    // (posterior) towards the front, one every 25 mm, with no costal cartilage anteriorly.
    const v = y / BODY_B;
    const outer = 0.88 * 0.88 - v * v;
    if (outer <= 0) return;
    const inner = 0.82 * 0.82 - v * v;
    const xo = BODY_A * Math.sqrt(outer);
    const xi = inner > 0 ? BODY_A * Math.sqrt(inner) : 0;
    for (const [xa, xb] of [[xi, xo], [-xo, -xi]]) {
      const [a, b] = span(xa, xb);
      for (let i = a; i <= b; i++) {
        const u = (x0 + i * dx) / BODY_A;
        const phi = Math.atan2(Math.abs(u), v); // 0 = posterior mid-line, π = anterior
        if (phi < 0.25 || phi > 2.4) continue;
        const zr = z + 40 * (phi / Math.PI) + 130;
        const m = ((zr % 25) + 25) % 25;
        if (zr > 0 && zr < 260 && m < 9) row[i] = T.BONE;
      }
    }
  }

  private paintLungs(y: number, z: number, x0: number, dx: number, row: Uint8Array, span: (a: number, b: number) => [number, number]): void {
    for (const side of [1, -1] as const) {
      const s = ChestModel.taper(z);
      const dy = (y - LUNG_Y) / (LUNG_AY * s);
      if (s <= 0 || dy * dy >= 1) continue;
      const h = 68 * s * Math.sqrt(1 - dy * dy) + 1;
      const [a, b] = this.junction ? span(side > 0 ? -1 : -LUNG_X - h, side > 0 ? LUNG_X + h : 1) : span(side * LUNG_X - h, side * LUNG_X + h);
      for (let i = a; i <= b; i++) if (this.inLung(side, x0 + i * dx, y, z)) row[i] = this.abnormal.lung(side, x0 + i * dx, y, z);
    }
    // Vessels: spheres along branching trees, only where there is lung.
    const bucket = this.vesselBuckets.get(Math.floor(z / ChestModel.BUCKET_MM));
    if (!bucket) return;
    for (const s of bucket) {
      const dy = y - s.c[1];
      const dz = z - s.c[2];
      const h2 = s.r * s.r - dy * dy - dz * dz;
      if (h2 <= 0) continue;
      const h = Math.sqrt(h2);
      const [a, b] = span(s.c[0] - h, s.c[0] + h);
      for (let i = a; i <= b; i++) {
        const t = this.abnormal.vessel(row[i], s.r);
        if (t !== undefined) row[i] = t;
      }
    }
    if (!this.abnormal.any) return;
    for (let i = 0; i < row.length; i++) {
      const t = row[i];
      const side = t === T.LUNG_L || t === T.VESSEL_L || t === T.GGO_L || t === T.TUMOUR_L || t === T.CONSOLIDATION_L || t === T.BRONCHOGRAM_L ? 1 : t === T.LUNG_R || t === T.VESSEL_R || t === T.GGO_R || t === T.CONSOLIDATION_R || t === T.BRONCHOGRAM_R ? -1 : 0;
      if (side === 0) continue;
      const late = this.abnormal.late(side, x0 + i * dx, y, z);
      if (late !== undefined) row[i] = late;
    }
  }

  private paintAirways(y: number, z: number, x0: number, dx: number, row: Uint8Array, span: (a: number, b: number) => [number, number]): void {
    const WALL = 2;
    // Two passes so one tube's wall never covers another's lumen where they join at the carina.
    for (const pass of [0, 1]) {
      for (const c of this.airways) {
        const R = c.r + WALL;
        if (z < Math.min(c.a[2], c.b[2]) - R || z > Math.max(c.a[2], c.b[2]) + R) continue;
        if (y < Math.min(c.a[1], c.b[1]) - R || y > Math.max(c.a[1], c.b[1]) + R) continue;
        const d: V = [c.b[0] - c.a[0], c.b[1] - c.a[1], c.b[2] - c.a[2]];
        const dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        const [ia, ib] = span(Math.min(c.a[0], c.b[0]) - 3 * R, Math.max(c.a[0], c.b[0]) + 3 * R);
        for (let i = ia; i <= ib; i++) {
          const x = x0 + i * dx;
          const px = x - c.a[0];
          const py = y - c.a[1];
          const pz = z - c.a[2];
          const tRaw = (px * d[0] + py * d[1] + pz * d[2]) / dd;
          // The far end of a bronchus is open: its air runs into the lung, as real airways do.
          if (pass === 0 && tRaw > 0.95 && c.lumen !== T.TRACHEA) continue;
          const t = Math.max(0, Math.min(1, tRaw));
          const ex = px - t * d[0];
          const ey = py - t * d[1];
          const ez = pz - t * d[2];
          const dist2 = ex * ex + ey * ey + ez * ez;
          if (pass === 0 && dist2 <= R * R && row[i] !== T.TRACHEA && row[i] !== T.BRONCHUS_L && row[i] !== T.BRONCHUS_R) row[i] = T.AIRWAY_WALL;
          if (pass === 1 && dist2 <= c.r * c.r) row[i] = c.lumen;
        }
      }
    }
  }
}
