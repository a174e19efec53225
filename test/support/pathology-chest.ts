import { indexToPatient, type Vec3, type Volume } from '../../src/core/volume.ts';
import { syntheticChest, type SyntheticChestOptions } from './synthetic-chest.ts';

/**
 * Pathology painted into the analytic test chest (synthetic-chest.ts), for QC tests. The full
 * phantom generator (src/dicom/phantom) gets its own pathology phantoms; these are small and exact.
 * `truth` follows the OAR convention: consolidated lung is lung (label kept), effusion is not.
 * `region` marks the painted voxels. Labels: 1 = patient-left lung, 2 = patient-right lung.
 */
export interface PathologyChest {
  readonly volume: Volume;
  readonly truth: Uint8Array;
  readonly region: Uint8Array;
}

type Paint = (x: number, y: number, z: number) => boolean;

function paint(opts: SyntheticChestOptions, side: 1 | 2, inside: Paint, hu: number, keepLabel: boolean): PathologyChest {
  const { volume, truth } = syntheticChest(opts);
  const data = Int16Array.from(volume.data);
  const t = Uint8Array.from(truth);
  const region = new Uint8Array(t.length);
  const [nx, ny, nz] = volume.dims;
  let rnd = 777;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (truth[p] !== side) continue;
        const [x, y, z] = indexToPatient(volume, i, j, k);
        if (!inside(x, y, z)) continue;
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        data[p] = Math.round(hu + (rnd / 0x7fffffff - 0.5) * 30); // ±15 HU
        region[p] = 1;
        if (!keepLabel) t[p] = 0;
      }
    }
  }
  return { volume: { ...volume, data }, truth: t, region };
}

/**
 * Dense consolidation (45 HU) of the right lower lung: a quarter of the lung, everything below
 * z = −20 mm inside 80 % of the lung's cross-section, so aerated lung still rims it on each slice.
 */
export function consolidatedChest(opts: SyntheticChestOptions = {}): PathologyChest {
  const s = opts.lungScale ?? 1;
  const c: Vec3 = [-62, 0, -10];
  const r: Vec3 = [45 * s * 0.8, 60 * s * 0.8, 95 * s];
  return paint(opts, 2, (x, y, z) => z < -20 && ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1, 45, true);
}

/**
 * Right pleural effusion (8 HU, water-like) in a supine patient: dependent, so it fills the
 * posterior part of the right pleural space (y > 20 mm, below z = 10 mm), the lung in front of it.
 * The fluid is not lung: its voxels leave the truth.
 */
export function effusionChest(opts: SyntheticChestOptions = {}): PathologyChest {
  return paint(opts, 2, (_x, y, z) => y > 20 && z < 10, 8, false);
}

/** Slices k0..k1-1 of a volume and a label array on its grid: a scan with a shorter field of view. */
export function cropSlices(volume: Volume, labels: Uint8Array, k0: number, k1: number): { volume: Volume; labels: Uint8Array } {
  const [nx, ny] = volume.dims;
  const plane = nx * ny;
  const origin = indexToPatient(volume, 0, 0, k0);
  const dataCtor = volume.data instanceof Float32Array ? Float32Array : Int16Array;
  return {
    volume: { ...volume, dims: [nx, ny, k1 - k0], origin, data: dataCtor.from(volume.data.subarray(k0 * plane, k1 * plane)) },
    labels: labels.slice(k0 * plane, k1 * plane),
  };
}
