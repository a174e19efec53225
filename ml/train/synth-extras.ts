/**
 * Traps, pathology and acquisition variety for the synthetic training chests (synth-chest.ts).
 * The label convention is the usual radiotherapy OAR one for "Lung": inflated, collapsed,
 * consolidated, nodular and emphysematous lung is lung; pleural effusion, stomach, bowel, free
 * abdominal air, chest wall and mediastinum are not.
 *
 * Everything is drawn from the caller's seeded PRNG, so a seed still fixes the whole volume.
 */
import type { Vec3 } from '../../src/core/volume.ts';

export type Scenario = 'chest' | 'abdomen-bases' | 'abdomen-no-lung';
/** Findings a test can force on (the draws are made either way, so other seeds' volumes stay the same). */
export type Finding = 'consolidation' | 'tumour' | 'ggo' | 'bullae' | 'effusion' | 'gastric' | 'freeAir' | 'colon';

/** The chest's shape parameters the extras need (mm, in the chest's rotated frame). */
export interface ChestShape {
  readonly A: number; // body half-width
  readonly B: number; // body half-depth
  readonly fat: number;
  readonly wall: number;
  readonly zb: number; // lung base
  readonly za: number; // lung apex
  readonly lungX: readonly number[];
  readonly lungY: readonly number[];
  readonly lungAx: readonly number[];
  readonly lungAy: readonly number[];
  readonly spineY: number;
}

type U = (a: number, b: number) => number;
type Sphere = readonly [number, number, number, number]; // x, y, z, r
type Segment = { readonly a: Vec3; readonly b: Vec3; readonly r: number };

export interface Extras {
  readonly scenario: Scenario;
  readonly contrast: number; // HU added to heart / aorta / vessels (0 = no IV contrast)
  readonly sharpen: number; // unsharp-mask gain (0 = none); a sharp (lung / bone) kernel
  readonly thickSlices: boolean; // average 3 slices: thicker reconstruction than the spacing
  /** Lung voxel (label kept): new HU, or undefined to leave it. */
  lungHu(l: number, x: number, y: number, z: number, hu: number): number | undefined;
  /** Voxel that is NOT lung even if the lung shape covers it (effusion, stomach wall, ...): HU or undefined. */
  notLung(l: number, x: number, y: number, z: number, s: number): number | undefined;
  /** Abdominal gas outside the lungs (stomach bubble, free air, colon): HU or undefined. */
  gas(x: number, y: number, z: number): number | undefined;
}

const inSphere = (s: Sphere, x: number, y: number, z: number, grow = 0): boolean =>
  (x - s[0]) ** 2 + (y - s[1]) ** 2 + (z - s[2]) ** 2 <= (s[3] + grow) ** 2;

function segDist2(g: Segment, x: number, y: number, z: number): number {
  const d = [g.b[0] - g.a[0], g.b[1] - g.a[1], g.b[2] - g.a[2]];
  const w = [x - g.a[0], y - g.a[1], z - g.a[2]];
  const t = Math.max(0, Math.min(1, (w[0] * d[0] + w[1] * d[1] + w[2] * d[2]) / (d[0] ** 2 + d[1] ** 2 + d[2] ** 2)));
  return (w[0] - t * d[0]) ** 2 + (w[1] - t * d[1]) ** 2 + (w[2] - t * d[2]) ** 2;
}

/** One draw of traps, pathology and acquisition settings for a chest of this shape. */
export function drawExtras(r: () => number, u: U, c: ChestShape, scenario: Scenario, force: readonly Finding[] = []): Extras {
  const H = c.za - c.zb;
  const side = r() < 0.5 ? 0 : 1;
  const chance = (p: number, f?: Finding) => (r() < p) || (f !== undefined && force.includes(f));
  const abdomen = scenario !== 'chest';
  // Lung pathology (label stays lung).
  const consolidation = chance(0.3, 'consolidation') ? { l: r() < 0.5 ? 0 : 1, zTop: c.zb + H * u(0.25, 0.55), yCut: u(-0.3, 0.35), hu: u(15, 60) } : undefined;
  const bronchi: Segment[] = [];
  if (consolidation) {
    const l = consolidation.l;
    for (let b = 0; b < Math.floor(u(2, 6)); b++) {
      const a: Vec3 = [c.lungX[l] * u(0.5, 0.9), c.lungY[l] + c.lungAy[l] * u(-0.1, 0.2), consolidation.zTop - u(0, 15)];
      bronchi.push({ a, b: [a[0] + u(-25, 25), a[1] + u(15, 50), a[2] - u(20, 60)], r: u(1.2, 2.5) });
    }
  }
  const tumours: Sphere[] = [];
  if (chance(0.3, 'tumour')) {
    const l = r() < 0.5 ? 0 : 1;
    const th = u(0, 2 * Math.PI);
    const z = c.zb + H * u(0.2, 0.75);
    tumours.push([c.lungX[l] + c.lungAx[l] * 0.92 * Math.cos(th), c.lungY[l] + c.lungAy[l] * 0.92 * Math.sin(th), z, u(8, 30)]);
  }
  const tumourHu = u(15, 55);
  const ggo: Sphere[] = chance(0.25, 'ggo') ? Array.from({ length: Math.floor(u(1, 4)) }, () => [c.lungX[side] + u(-0.6, 0.6) * c.lungAx[side], c.lungY[side] + u(-0.6, 0.6) * c.lungAy[side], c.zb + H * u(0.1, 0.9), u(15, 45)] as Sphere) : [];
  const ggoHu = u(180, 380);
  const bullae: Sphere[] = chance(0.25, 'bullae')
    ? Array.from({ length: Math.floor(u(1, 7)) }, () => {
      const l = r() < 0.5 ? 0 : 1;
      const th = u(0, 2 * Math.PI);
      const rr = u(0.3, 0.9);
      return [c.lungX[l] + c.lungAx[l] * rr * Math.cos(th), c.lungY[l] + c.lungAy[l] * rr * Math.sin(th), c.zb + H * u(0.3, 0.95), u(6, 25)] as Sphere;
    })
    : [];
  // Not lung.
  const effusion = chance(0.3, 'effusion') ? { l: r() < 0.5 ? 0 : 1, depth: u(10, 45), height: H * u(0.2, 0.55), hu: u(0, 22) } : undefined;
  const gastric = chance(abdomen ? 0.5 : 0.35, 'gastric')
    ? { s: [c.lungX[0] * u(0.7, 1.1), c.lungY[0] - c.lungAy[0] * u(0, 0.35), c.zb - u(-5, 20), u(25, 50)] as Sphere, level: u(0, 0.6), wall: u(3, 6) }
    : undefined;
  const freeAir = chance(abdomen ? 0.3 : 0.2, 'freeAir') ? { zTop: c.zb + H * u(0.05, 0.15), zLow: c.zb - u(30, 100), th: u(0.05, 0.13) } : undefined;
  const colon = abdomen || chance(0.3, 'colon') ? { r0: u(0.5, 0.62), r1: u(0.66, 0.8), f: u(4, 8), ph: u(0, 6.3), fill: u(-0.4, 0.3) } : undefined;
  const Ai = c.A - c.fat - c.wall;
  const Bi = c.B - c.fat - c.wall;
  return {
    scenario,
    contrast: chance(0.4) ? u(100, 300) : 0,
    sharpen: chance(0.3) ? u(0.5, 1.5) : 0,
    thickSlices: chance(0.25),
    lungHu(l, x, y, z, hu) {
      let out: number | undefined;
      for (const g of ggo) if (inSphere(g, x, y, z)) out = hu + ggoHu;
      for (const b of bullae) {
        if (inSphere(b, x, y, z)) out = -1000;
        else if (inSphere(b, x, y, z, 1.5)) out = -350;
      }
      if (consolidation && l === consolidation.l && z < consolidation.zTop && y > c.lungY[l] + consolidation.yCut * c.lungAy[l]) {
        out = consolidation.hu;
        for (const s of bronchi) if (segDist2(s, x, y, z) < s.r * s.r) out = -920;
      }
      for (const t of tumours) if (inSphere(t, x, y, z)) out = tumourHu;
      return out;
    },
    notLung(l, x, y, z, s) {
      if (effusion && l === effusion.l && z < c.zb + effusion.height) {
        // dependent (posterior) fluid, thickest at the base, meniscus toward the top
        const d = effusion.depth * (1 - (z - c.zb) / effusion.height);
        if (y > c.lungY[l] + c.lungAy[l] * s - d) return effusion.hu;
      }
      if (gastric && (inSphere(gastric.s, x, y, z, gastric.wall))) return inSphere(gastric.s, x, y, z) ? (y > gastric.s[1] + gastric.s[3] * gastric.level ? 15 : -1000) : 35;
      return undefined;
    },
    gas(x, y, z) {
      if (gastric && inSphere(gastric.s, x, y, z, gastric.wall)) return inSphere(gastric.s, x, y, z) ? (y > gastric.s[1] + gastric.s[3] * gastric.level ? 15 : -1000) : 35;
      const e = Math.sqrt((x / Ai) ** 2 + (y / Bi) ** 2);
      if (freeAir && z < freeAir.zTop && z > freeAir.zLow && y < -0.25 * c.B && e > 1 - freeAir.th && e < 1.02) return -1000;
      if (colon && z < c.zb - 15 && e > colon.r0 && e < colon.r1 && y < 0.35 * c.B) {
        const v = Math.cos(Math.atan2(y, x) * colon.f + z / 14 + colon.ph);
        if (v > colon.fill) return -1000;
        if (v > colon.fill - 0.3) return -250;
      }
      return undefined;
    },
  };
}

/** Unsharp mask in-plane (a sharp reconstruction kernel): d + gain * (d − box blur radius 1). */
export function sharpenInPlane(d: Float32Array, dims: Vec3, gain: number): void {
  const [nx, ny, nz] = dims;
  const src = Float32Array.from(d);
  for (let k = 0; k < nz; k++) {
    for (let j = 1; j < ny - 1; j++) {
      for (let i = 1; i < nx - 1; i++) {
        const o = i + j * nx + k * nx * ny;
        let sum = 0;
        for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) sum += src[o + di + dj * nx];
        d[o] = src[o] + gain * (src[o] - sum / 9);
      }
    }
  }
}

/** Each slice becomes the mean of itself and its neighbours: a thicker slice than the spacing. */
export function thickenSlices(d: Float32Array, dims: Vec3): void {
  const [nx, ny, nz] = dims;
  const n = nx * ny;
  const src = Float32Array.from(d);
  for (let k = 0; k < nz; k++) {
    const a = Math.max(0, k - 1);
    const b = Math.min(nz - 1, k + 1);
    for (let p = 0; p < n; p++) d[p + k * n] = (src[p + a * n] + src[p + k * n] + src[p + b * n]) / 3;
  }
}
