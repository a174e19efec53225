/**
 * Synthetic chest CT with lung labels, for training the small lung U-Net. Deliberately varied
 * (body size, field of view, pixel and slice spacing, lung shape, heart, trachea and bronchi,
 * diaphragm domes, bowel and stomach gas, table, ribs, vessels, noise, blur) so the network learns
 * "dark, lung-shaped region inside the thorax, on the patient's left or right" rather than one
 * phantom's look. Labels: 1 = Lung_L (patient left, +x in LPS), 2 = Lung_R.
 *
 * Traps and pathology (ml/train/synth-extras.ts, one draw per seed): abdomen slabs with only the lung
 * bases or no lung at all (colon and stomach gas), a large gastric bubble under the left
 * hemidiaphragm, free air under the diaphragm — none of it lung; and pathology that IS lung (dense
 * lower-lobe consolidation / atelectasis with air bronchograms, a tumour abutting the pleura, ground
 * glass, emphysema bullae) beside a pleural effusion that is NOT. Plus IV contrast, sharp or soft
 * reconstruction kernels, thick slices and partial coverage.
 *
 * Coordinates are DICOM LPS mm (x → patient Left, y → Posterior, z → Superior). Seeded: the same
 * seed gives the same volume on every machine.
 */
import type { Vec3, Volume } from '../../src/core/volume.ts';
import { drawExtras, sharpenInPlane, thickenSlices, type Finding, type Scenario } from './synth-extras.ts';

/** mulberry32: small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SynthChest {
  readonly volume: Volume;
  readonly labels: Uint8Array;
  /** 1 where the volume holds a gas pocket that is not lung (bowel, stomach, free air). */
  readonly gas: Uint8Array;
  readonly scenario: Scenario;
}

/** scenario: forced, else drawn from the seed (mostly chests, some abdomen slabs); force: findings always present. */
export function synthChest(seed: number, opts: { scenario?: Scenario; force?: readonly Finding[] } = {}): SynthChest {
  const r = rng(seed);
  const u = (a: number, b: number) => a + (b - a) * r();
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

  const n = Math.round(u(80, 200));
  const fov = u(300, 480);
  const px = fov / n;
  const dz = u(2.5, 6);
  const A = u(115, 190); // body half-width (x)
  const B = u(95, 135); // body half-depth (y)
  const fat = u(5, 28);
  const wall = u(6, 14); // chest wall muscle + ribs inside the fat
  const zb = u(-130, -80); // lung base (dome apex lower)
  const za = u(80, 135); // lung apex
  const draw = r();
  const scenario: Scenario = opts.scenario ?? (draw < 0.1 ? 'abdomen-bases' : draw < 0.17 ? 'abdomen-no-lung' : 'chest');
  let zLo = zb - u(20, 90);
  let zHi = za + u(0, 40);
  if (scenario === 'abdomen-bases') {
    zHi = zb + u(15, 70); // only the lung bases in view
    zLo = zb - u(120, 220);
  } else if (scenario === 'abdomen-no-lung') {
    zHi = zb - u(8, 40);
    zLo = zHi - u(80, 220);
  } else if (r() < 0.2) {
    // partial coverage: the scan cuts through the lungs at one end
    if (r() < 0.5) zHi = za - u(20, 90);
    else zLo = zb + u(5, 50);
  }
  const nz = Math.max(8, Math.round((zHi - zLo) / dz) + 1);
  const cx = u(-20, 20);
  const cy = u(-15, 15);
  const rot = u(-0.12, 0.12);
  const gap = r() < 0.3 ? 0 : u(4, 25); // medial gap; 0 = lungs touch at the anterior junction
  const lungAx = [u(0.3, 0.42) * A, u(0.3, 0.42) * A];
  const lungAy = [u(0.6, 0.85) * B, u(0.6, 0.85) * B];
  const lungX = [gap / 2 + lungAx[0] * u(0.95, 1.1), -(gap / 2 + lungAx[1] * u(0.95, 1.1))];
  const lungY = [u(-0.05, 0.15) * B, u(-0.05, 0.15) * B];
  const pw = [u(2, 3.2), u(2, 3.2)]; // superellipse exponent: boxier lungs
  const domeL = u(0.1, 0.3);
  const lungHu = u(-900, -780);
  const gradHu = u(0, 120); // dependent (posterior) density
  const noise = u(4, 45);
  const heartX = u(0.05, 0.2) * A;
  const heartY = -u(0.2, 0.4) * B;
  const heartA = u(0.25, 0.4) * A;
  const heartB = u(0.35, 0.5) * B;
  const trR = u(7, 11);
  const carina = zb + (za - zb) * u(0.55, 0.7);
  const spineY = B * u(0.55, 0.7);
  const tableY = B + u(5, 40);
  const hasTable = r() < 0.8;
  const gasBlobs = Array.from({ length: Math.floor(scenario === 'chest' ? u(0, 7) : u(4, 16)) }, () => [u(-0.6, 0.7) * A, u(-0.6, 0.3) * B, u(zLo, zb + 20), u(8, 30)]);

  const extras = drawExtras(r, u, { A, B, fat, wall, zb, za, lungX, lungY, lungAx, lungAy, spineY }, scenario, opts.force);
  const aortaX = u(0.05, 0.2) * A;
  const aortaR = u(9, 15);
  const dims: Vec3 = [n, n, nz];
  const spacing: Vec3 = [px, px, dz];
  const origin: Vec3 = [cx - (fov - px) / 2, cy - (fov - px) / 2 + u(-20, 20), zLo];
  const data = new Float32Array(n * n * nz);
  const labels = new Uint8Array(n * n * nz);
  const gas = new Uint8Array(n * n * nz);
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);

  for (let k = 0; k < nz; k++) {
    const z = zLo + k * dz;
    const t = (z - zb) / (za - zb);
    // Cross-section scale: rounds off toward the apex, cut by the diaphragm dome at the base.
    const s = t < 0 || t > 1 ? 0 : t > 0.45 ? Math.sqrt(Math.max(0, 1 - ((t - 0.45) / 0.58) ** 2)) : 1;
    const dome = t < domeL ? 1 - t / domeL : 0; // 1 at the base: dome occupies most of the section
    const vessels = Array.from({ length: Math.floor(u(10, 40)) }, () => [u(-A, A), u(-B, B), u(1, 4.5), u(-50, 80)]);
    const slab = Math.abs(Math.sin(z / u(9, 11))) > 0.5; // ribs on some slices
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const wx = origin[0] + i * px - cx;
        const wy = origin[1] + j * px - cy;
        const x = cr * wx + sr * wy;
        const y = -sr * wx + cr * wy;
        const o = i + j * n + k * n * n;
        let hu = -1000;
        let lab = 0;
        const e = (x / A) ** 2 + (y / B) ** 2;
        if (e <= 1) {
          const inner = (x / (A - fat)) ** 2 + (y / (B - fat)) ** 2;
          hu = inner <= 1 ? 40 : -100;
          // spine and ribs
          if ((x / 18) ** 2 + ((y - spineY) / 16) ** 2 <= 1) hu = 450;
          if (slab && inner > 0.78 && inner < 0.9 && Math.abs(x) > 20) hu = 600;
          if (z < zb + 10 && t < domeL + 0.05) hu = 55; // liver / spleen under the dome
          if (z < zb && ((Math.abs(x) - 0.45 * A) / (0.13 * A)) ** 2 + ((y - 0.45 * B) / (0.2 * B)) ** 2 <= 1) hu = 30 + extras.contrast * 0.5; // kidneys
          if ((x - aortaX) ** 2 + (y - spineY + 16 + aortaR) ** 2 <= aortaR * aortaR) hu = 40 + extras.contrast; // descending aorta
          for (let l = 0; l < 2 && s > 0; l++) {
            const lx = (x - lungX[l]) / (lungAx[l] * s);
            const ly = (y - lungY[l]) / (lungAy[l] * s);
            // inside the superellipse and inside the rib cage (lungs follow the chest wall)
            let inLung = Math.abs(lx) ** pw[l] + Math.abs(ly) ** pw[l] <= 1 && (x / (A - fat - wall)) ** 2 + (y / (B - fat - wall)) ** 2 <= 1;
            if (inLung && dome > 0) {
              // diaphragm dome: an ellipse growing from the base, leaving a posterior-lateral crescent
              const dx = (x - lungX[l]) / (lungAx[l] * 1.05 * dome);
              const dy = (y - lungY[l] + lungAy[l] * 0.3) / (lungAy[l] * 1.0 * dome);
              if (dx * dx + dy * dy <= 1) inLung = false;
            }
            if (inLung && t > 0.12 && t < 0.62 && ((x - heartX) / heartA) ** 2 + ((y - heartY) / heartB) ** 2 <= 1) inLung = false;
            if (inLung && (l === 0 ? x < gap / 2 : x > -gap / 2)) inLung = false;
            if (inLung) {
              const not = extras.notLung(l, x, y, z, s);
              if (not !== undefined) {
                hu = not;
                if (not === -1000) gas[i + j * n + k * n * n] = 1;
                continue;
              }
              lab = l === 0 ? 1 : 2;
              hu = lungHu + gradHu * ((y + B) / (2 * B));
              hu = extras.lungHu(l, x, y, z, hu) ?? hu;
            }
          }
          if (lab === 0 && t > 0.12 && t < 0.62 && ((x - heartX) / heartA) ** 2 + ((y - heartY) / heartB) ** 2 <= 1) hu = 45 + extras.contrast;
          // trachea above the carina, main bronchi diverging below it (air, not lung)
          const ty = -B * 0.15;
          if (z > carina && z < zHi && (x * x + (y - ty) ** 2) <= trR * trR) {
            hu = -1000;
            lab = 0;
          }
          if (z <= carina && z > carina - 35) {
            const off = (carina - z) * 0.9;
            for (const sgn of [1, -1]) {
              if ((x - sgn * off) ** 2 + (y - ty) ** 2 <= (trR * 0.7) ** 2) {
                hu = -1000;
                lab = 0;
              }
            }
          }
          if (lab > 0) {
            if (hu < -500) for (const v of vessels) if ((x - v[0]) ** 2 + (y - v[1]) ** 2 <= v[2] * v[2]) hu = v[3] + extras.contrast * 0.6;
          } else if (z < zb + 0.3 * (za - zb)) {
            if (z < zb + 25 && inner <= 1) {
              for (const g of gasBlobs) {
                if ((x - g[0]) ** 2 + (y - g[1]) ** 2 + (z - g[2]) ** 2 <= g[3] * g[3]) {
                  hu = -1000;
                  gas[o] = 1;
                }
              }
            }
            const g = inner <= 1 ? extras.gas(x, y, z) : undefined;
            if (g !== undefined) {
              hu = g;
              gas[o] = g === -1000 ? 1 : 0;
            }
          }
        } else if (hasTable && y > tableY && y < tableY + 12 && Math.abs(x) < A * 1.2) {
          hu = 150;
        }
        data[o] = hu + noise * gauss();
        labels[o] = lab;
      }
    }
  }
  if (extras.sharpen > 0) sharpenInPlane(data, dims, extras.sharpen);
  else if (r() < 0.6) blurInPlane(data, dims, r() < 0.5 ? 1 : 2);
  if (extras.thickSlices) thickenSlices(data, dims);
  const volume: Volume = {
    dims,
    spacing,
    origin,
    direction: [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    data,
    meta: {
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      frameOfReferenceUid: '2.25.3',
      modality: 'CT',
      patientId: `SYNTH${seed}`,
      patientName: 'Synthetic^Chest',
      slices: [],
    },
  };
  return { volume, labels, gas, scenario };
}

/** Separable box blur in x and y (radius in voxels): mimics the smoother look of soft kernels. */
export function blurInPlane(d: Float32Array, dims: Vec3, radius: number): void {
  const [nx, ny, nz] = dims;
  const tmp = new Float32Array(Math.max(nx, ny));
  for (let k = 0; k < nz; k++) {
    for (const axis of [0, 1]) {
      const len = axis === 0 ? nx : ny;
      const lines = axis === 0 ? ny : nx;
      for (let l = 0; l < lines; l++) {
        const at = (p: number) => (axis === 0 ? p + l * nx : l + p * nx) + k * nx * ny;
        for (let p = 0; p < len; p++) {
          let sum = 0;
          let cnt = 0;
          for (let q = Math.max(0, p - radius); q <= Math.min(len - 1, p + radius); q++, cnt++) sum += d[at(q)];
          tmp[p] = sum / cnt;
        }
        for (let p = 0; p < len; p++) d[at(p)] = tmp[p];
      }
    }
  }
}
