/**
 * The three real chest CTs with lung ground truth in ../shared/testdata (see its README), as volumes
 * with labels 1 = Lung_L, 2 = Lung_R on the volume's own grid:
 * - cip64: DICOM series + ground-truth left/right NIfTI masks (same grid);
 * - imlab id001 / id002: NIfTI CT (float HU with ringing from downsampling: clipped to −1024…3071)
 *   and a one-label mask (float 0–255 with ringing: lung = value > 127), split by side here.
 * Orientation comes from each NIfTI's affine (RAS → LPS in src/io/nifti.ts); the imlab headers
 * flip y, which the volume's direction cosines carry, so nothing here assumes an orientation.
 */
import { join } from 'node:path';
import type { Vec3, Volume } from '../../src/core/volume.ts';
import { loadVolumeFromDir } from '../../src/dicom/volume/index.ts';
import { readNifti, niftiToVolumeGrid, type NiftiImage } from '../../src/io/nifti.ts';

export const REAL_CASES = ['cip64', 'imlab-id001', 'imlab-id002'] as const;
export type RealCaseName = (typeof REAL_CASES)[number];

export interface RealCase {
  readonly name: RealCaseName;
  readonly volume: Volume;
  /** 1 = Lung_L (patient left), 2 = Lung_R, on the volume's grid. */
  readonly labels: Uint8Array;
}

const DEFAULT_TESTDATA = new URL('../../../shared/testdata/', import.meta.url).pathname;

export async function loadRealCase(name: RealCaseName, testdata = process.env.DFA_TESTDATA ?? DEFAULT_TESTDATA): Promise<RealCase> {
  if (name === 'cip64') {
    const dir = join(testdata, 'ct-chest-cip64');
    const volume = await loadVolumeFromDir(join(dir, 'dicom'));
    const l = niftiToVolumeGrid(await readNifti(join(dir, 'lung_left_mask.nii.gz')), volume);
    const r = niftiToVolumeGrid(await readNifti(join(dir, 'lung_right_mask.nii.gz')), volume);
    const labels = new Uint8Array(l.length);
    for (let v = 0; v < l.length; v++) labels[v] = l[v] ? 1 : r[v] ? 2 : 0;
    return { name, volume, labels };
  }
  const id = name.slice('imlab-'.length);
  const dir = join(testdata, 'ct-chest-imlab');
  const ct = await readNifti(join(dir, `${id}-ct.nii.gz`));
  const mask = await readNifti(join(dir, `${id}-lungs.nii.gz`));
  const volume = niftiVolume(ct, name);
  const lung = new Uint8Array(mask.data.length);
  for (let v = 0; v < lung.length; v++) lung[v] = mask.data[v] > 127 ? 1 : 0;
  // Same grid (README): the mask's voxels map one-to-one onto the CT's.
  const onGrid = niftiToVolumeGrid({ ...mask, data: lung, datatype: 2 }, volume);
  return { name, volume, labels: splitLungsBySide(onGrid, volume) };
}

export async function loadRealCases(names: readonly RealCaseName[] = REAL_CASES): Promise<RealCase[]> {
  const out: RealCase[] = [];
  for (const n of names) out.push(await loadRealCase(n));
  return out;
}

/** A NIfTI CT as a Volume in its own voxel order, HU clipped to the CT range (ringing removed). */
function niftiVolume(n: NiftiImage, name: string): Volume {
  const data = Float32Array.from(n.data as ArrayLike<number>, (v) => Math.max(-1024, Math.min(3071, v)));
  return {
    dims: n.dims,
    spacing: n.spacing,
    origin: n.origin,
    direction: n.direction,
    data,
    meta: {
      studyInstanceUid: '2.25.11',
      seriesInstanceUid: '2.25.12',
      frameOfReferenceUid: '2.25.13',
      modality: 'CT',
      patientId: name,
      patientName: 'Real^CT',
      slices: [],
    },
  };
}

/**
 * One lung mask → 1 = left, 2 = right. Per axial slice: the connected pieces (8-connected) whose
 * centroid lies at patient +x of the mid-plane are left lung (patient left = +x, PS3.3 C.7.6.2.1.1).
 * The mid-plane is the mask's own centroid x on that slice (robust to a body off-centre). A piece
 * that straddles the mid-plane (lungs touching at the anterior junction) is cut voxel by voxel.
 */
export function splitLungsBySide(mask: Uint8Array, g: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>): Uint8Array {
  const [nx, ny, nz] = g.dims;
  const out = new Uint8Array(mask.length);
  const px = (i: number, j: number, k: number): number => g.origin[0] + i * g.spacing[0] * g.direction[0][0] + j * g.spacing[1] * g.direction[1][0] + k * g.spacing[2] * g.direction[2][0];
  const comp = new Int32Array(nx * ny);
  const stack: number[] = [];
  // Mid-plane: the whole mask's centroid x (the per-slice one is biased where only one lung shows).
  let sx = 0;
  let cnt = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (mask[i + j * nx + k * nx * ny]) { sx += px(i, j, k); cnt++; }
  const mid = cnt > 0 ? sx / cnt : 0;
  for (let k = 0; k < nz; k++) {
    const base = k * nx * ny;
    comp.fill(0);
    let ncomp = 0;
    for (let s = 0; s < nx * ny; s++) {
      if (!mask[base + s] || comp[s]) continue;
      ncomp++;
      const members: number[] = [];
      let xs = 0;
      let lo = Infinity;
      let hi = -Infinity;
      comp[s] = ncomp;
      stack.push(s);
      while (stack.length) {
        const p = stack.pop()!;
        members.push(p);
        const i = p % nx;
        const j = (p - i) / nx;
        const x = px(i, j, k);
        xs += x;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
        for (let dj = -1; dj <= 1; dj++) {
          for (let di = -1; di <= 1; di++) {
            const a = i + di;
            const b = j + dj;
            if (a < 0 || b < 0 || a >= nx || b >= ny) continue;
            const q = a + b * nx;
            if (mask[base + q] && !comp[q]) {
              comp[q] = ncomp;
              stack.push(q);
            }
          }
        }
      }
      const cxm = xs / members.length;
      const straddles = lo < mid - 15 && hi > mid + 15;
      for (const p of members) {
        const i = p % nx;
        const x = straddles ? px(i, (p - i) / nx, k) : cxm;
        out[base + p] = x > mid ? 1 : 2;
      }
    }
  }
  return out;
}

/** Labels on the volume's grid for a quick look: voxel counts and mL per side. */
export function sideVolumesMl(labels: Uint8Array, spacing: Vec3): { left: number; right: number } {
  let l = 0;
  let r = 0;
  for (const v of labels) if (v === 1) l++; else if (v === 2) r++;
  const mm3 = spacing[0] * spacing[1] * spacing[2];
  return { left: (l * mm3) / 1000, right: (r * mm3) / 1000 };
}
