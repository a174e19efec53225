import type { Vec3, Volume } from '../../src/core/volume.ts';

/**
 * A tiny analytic chest for unit tests of the lung segmenter (the full phantom lives in
 * src/dicom/phantom): body ellipse, table under it, two lung ellipsoids with vessels, trachea and
 * main bronchi, optionally an anterior junction where the lungs touch. Returns the volume, the
 * truth (1 = patient-left lung, 2 = patient-right lung) and the airway outside the lungs (1),
 * computed from the same shapes.
 */
export interface SyntheticChestOptions {
  dims?: Vec3;
  spacing?: Vec3;
  /** Lungs joined by a bridge of lung tissue in front of the heart. */
  anteriorJunction?: boolean;
  /** Store columns right-to-left (rowDir = -x): left/right must then come from coordinates, not array side. */
  flipRows?: boolean;
  /**
   * An air-filled oesophagus behind the trachea, nearer the midline than the trachea (which then
   * sits 4 mm to the left): a second small round midline air column, shorter than the trachea.
   */
  oesophagusAir?: boolean;
  /** A large pocket of bowel gas under the lungs (below the diaphragm). */
  bowelGas?: boolean;
  /** Multiply both lung sizes by this (to make QC fail). */
  lungScale?: number;
  seed?: number;
}

export function syntheticChest(opts: SyntheticChestOptions = {}): { volume: Volume; truth: Uint8Array; airway: Uint8Array } {
  const dims = opts.dims ?? [80, 64, 56];
  const spacing = opts.spacing ?? [4, 4, 5];
  const [nx, ny, nz] = dims;
  const flip = opts.flipRows ?? false;
  const rowDir: Vec3 = flip ? [-1, 0, 0] : [1, 0, 0];
  const origin: Vec3 = [flip ? ((nx - 1) * spacing[0]) / 2 : (-(nx - 1) * spacing[0]) / 2, (-(ny - 1) * spacing[1]) / 2 - 10, (-(nz - 1) * spacing[2]) / 2];
  const s = opts.lungScale ?? 1;
  const data = new Int16Array(nx * ny * nz);
  const truth = new Uint8Array(nx * ny * nz);
  const airway = new Uint8Array(nx * ny * nz); // trachea and main bronchi outside the lungs
  let rnd = opts.seed ?? 12345;
  const noise = () => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return (rnd / 0x7fffffff - 0.5) * 60; // ±30 HU
  };
  const zc = 40; // carina height (mm)
  const inEllipsoid = (x: number, y: number, z: number, c: Vec3, r: Vec3) =>
    ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1;
  const lungR: Vec3 = [45 * s, 60 * s, 95 * s];
  const cL: Vec3 = [62, 0, -10];
  const cR: Vec3 = [-62, 0, -10];
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const z = origin[2] + k * spacing[2];
    for (let j = 0; j < ny; j++) {
      const y = origin[1] + j * spacing[1];
      for (let i = 0; i < nx; i++, p++) {
        const x = origin[0] + i * spacing[0] * rowDir[0];
        let hu = -1000;
        if ((x / 140) ** 2 + (y / 100) ** 2 <= 1) {
          hu = 40; // soft tissue
          const left = inEllipsoid(x, y, z, cL, lungR);
          const right = inEllipsoid(x, y, z, cR, lungR);
          const bridge = opts.anteriorJunction === true && inEllipsoid(x, y, z, [0, -45, -10], [40, 10, 50]);
          if (left || right || bridge) {
            // vessels: tissue cylinders along z inside each lung (holes in an axial slice)
            const vessel = Math.hypot(Math.abs(x) - 55, y - 10) < 5 || Math.hypot(Math.abs(x) - 75, y + 25) < 4;
            hu = vessel ? 40 : -850;
            truth[p] = x > 0 ? 1 : 2;
          }
          // trachea down to the carina, then two main bronchi running out and down into the lungs
          const t = (zc - z) / 40; // 0 at the carina, 1 forty mm below
          const tx = opts.oesophagusAir === true ? 4 : 0;
          const trachea = z >= zc && Math.hypot(x - tx, y + 10) < 9;
          const bronchus = t >= 0 && t <= 1 && Math.hypot(Math.abs(x - tx) - 45 * t, y + 10) < 6;
          const oesophagus = opts.oesophagusAir === true && z >= zc + 30 && Math.hypot(x + 1, y - 14) < 5;
          if (oesophagus) hu = -1000;
          if (opts.bowelGas === true && ((x - 20) / 60) ** 2 + ((y + 10) / 45) ** 2 + ((z + 128) / 16) ** 2 <= 1) hu = -1000;
          if (trachea || bronchus) {
            hu = -1000;
            if (!(left || right)) {
              truth[p] = 0;
              airway[p] = 1;
            }
          }
        } else if (y > 108 && y < 120 && Math.abs(x) < 150) {
          hu = 300; // table
        }
        data[p] = Math.round(hu + noise());
      }
    }
  }
  const volume: Volume = {
    dims,
    spacing,
    origin,
    direction: [rowDir, [0, 1, 0], [0, 0, 1]],
    data,
    meta: {
      studyInstanceUid: '1.2.826.0.1.3680043.8.498.1',
      seriesInstanceUid: '1.2.826.0.1.3680043.8.498.2',
      frameOfReferenceUid: '1.2.826.0.1.3680043.8.498.3',
      modality: 'CT',
      patientId: 'SYNTH',
      patientName: 'Synthetic^Chest',
      slices: [],
    },
  };
  return { volume, truth, airway };
}
