import { join } from 'node:path';
import type { Volume } from '../../src/core/volume.ts';
import { indexToPatient } from '../../src/core/volume.ts';
import { loadVolumeFromDir } from '../../src/dicom/volume/index.ts';
import { niftiToVolumeGrid, readNifti } from '../../src/io/nifti.ts';
import { CIP64_DICOM_DIR, CIP64_DIR, TESTDATA } from './testdata.ts';

/**
 * The three real chest CTs of ../shared/testdata with their lung truth split by side, on the
 * volume's own grid (LPS). Used by the real-CT gates and the ml benchmark.
 */
export interface RealCase {
  readonly name: string;
  readonly volume: Volume;
  readonly truthL: Uint8Array;
  readonly truthR: Uint8Array;
}

export const IMLAB_DIR = join(TESTDATA, 'ct-chest-imlab');
export const IMLAB_IDS = ['id001', 'id002'] as const;

export async function cip64Case(): Promise<RealCase> {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const mask = async (f: string) => niftiToVolumeGrid(await readNifti(join(CIP64_DIR, f)), volume);
  return { name: 'cip64', volume, truthL: await mask('lung_left_mask.nii.gz'), truthR: await mask('lung_right_mask.nii.gz') };
}

/**
 * An imlab case (README: float HU with downsampling ringing, clipped here to −1024..3071; the mask
 * is both lungs in one label, lung = value > 127). The volume keeps the NIfTI's voxel order with
 * its LPS geometry from the affine, so no orientation is assumed.
 */
export async function imlabCase(id: (typeof IMLAB_IDS)[number]): Promise<RealCase> {
  const ct = await readNifti(join(IMLAB_DIR, `${id}-ct.nii.gz`));
  const lungs = await readNifti(join(IMLAB_DIR, `${id}-lungs.nii.gz`));
  const data = Float32Array.from(ct.data as ArrayLike<number>, (v) => (v < -1024 ? -1024 : v > 3071 ? 3071 : v));
  const { dims, spacing, origin, direction } = ct;
  const volume: Volume = {
    dims, spacing, origin, direction, data,
    meta: { studyInstanceUid: `2.25.${id === 'id001' ? 1 : 2}`, seriesInstanceUid: '2.25.3', frameOfReferenceUid: '2.25.4', modality: 'CT', patientId: id, patientName: id, slices: [] },
  };
  if (lungs.dims.join() !== dims.join()) throw new Error(`${id}: mask grid differs from the CT's`);
  const both = Uint8Array.from(lungs.data as ArrayLike<number>, (v) => (v > 127 ? 1 : 0));
  const { left, right } = splitBySide(both, volume);
  return { name: `imlab ${id}`, volume, truthL: left, truthR: right };
}

/**
 * Split a both-lungs mask by side. The gap between the lungs (the mediastinum) is found first for
 * the whole volume: the least-populated x bin near the mask's centre; then per axial slice the
 * least-populated bin nearest that gap (so a slice holding one lung only is not cut through it).
 * Voxels at larger LPS x than the cut (patient left) are the left lung.
 */
export function splitBySide(mask: Uint8Array, g: Volume): { left: Uint8Array; right: Uint8Array } {
  const [nx, ny, nz] = g.dims;
  const left = new Uint8Array(mask.length);
  const right = new Uint8Array(mask.length);
  const bin = 1.01 * Math.max(g.spacing[0], g.spacing[1]); // no empty bins between voxel columns
  const xs = new Float64Array(mask.length);
  const all = new Map<number, number>();
  const perSlice: Map<number, number>[] = [];
  let sx = 0;
  let n = 0;
  for (let k = 0; k < nz; k++) {
    const h = new Map<number, number>();
    perSlice.push(h);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = i + j * nx + k * nx * ny;
        if (mask[p] === 0) continue;
        const x = indexToPatient(g, i, j, k)[0];
        xs[p] = x;
        const b = Math.floor(x / bin);
        h.set(b, (h.get(b) ?? 0) + 1);
        all.set(b, (all.get(b) ?? 0) + 1);
        sx += x;
        n++;
      }
    }
  }
  if (n === 0) return { left, right };
  const least = (h: Map<number, number>, around: number, reach: number) => {
    let best = around;
    for (let d = 0; d <= reach; d++) {
      for (const b of [around - d, around + d]) if ((h.get(b) ?? 0) < (h.get(best) ?? 0)) best = b;
    }
    return best;
  };
  const gap = least(all, Math.floor(sx / n / bin), Math.ceil(50 / bin));
  for (let k = 0; k < nz; k++) {
    const cut = (least(perSlice[k], gap, Math.ceil(30 / bin)) + 0.5) * bin;
    for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) {
      if (mask[p] === 0) continue;
      if (xs[p] > cut) left[p] = 1;
      else right[p] = 1;
    }
  }
  return { left, right };
}
