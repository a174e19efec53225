import type { Vec3 } from '../../core/volume.ts';

/**
 * Exact Euclidean distance transform in millimetres (Felzenszwalb & Huttenlocher, "Distance
 * Transforms of Sampled Functions", 2012): three separable 1D lower-envelope passes, O(n) per line,
 * anisotropic spacing honoured. Lets morphology be stated in mm whatever the voxel size
 * (4 mm test CT, 0.6–1 mm clinical CT).
 */

const INF = 1e20;

/** 1D squared-distance transform of f (length n, sample spacing s) into d, with scratch v / z. */
function dt1d(f: Float64Array, n: number, s: number, d: Float64Array, v: Int32Array, z: Float64Array, edges: boolean): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  const s2 = s * s;
  for (let q = 1; q < n; q++) {
    const p0 = v[k];
    // intersection of the parabolas rooted at q and v[k], in index units; z[0] = -Infinity stops the loop
    let sh = (f[q] + s2 * q * q - (f[p0] + s2 * p0 * p0)) / (2 * s2 * (q - p0));
    while (sh <= z[k]) {
      k--;
      const p = v[k];
      sh = (f[q] + s2 * q * q - (f[p] + s2 * p * p)) / (2 * s2 * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = sh;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    let val = s2 * dq * dq + f[v[k]];
    if (edges) {
      // outside the grid counts as background: a virtual zero at index -1 and at n
      const a = s * (q + 1);
      const b = s * (n - q);
      const e = a < b ? a * a : b * b;
      if (e < val) val = e;
    }
    d[q] = val;
  }
}

/**
 * Squared distance (mm²) from each voxel with mask != 0 to the nearest voxel with mask == 0
 * (0 on background). With `outsideIsBackground` the region beyond the grid counts as background.
 */
export function squaredDistanceToBackground(mask: Uint8Array, dims: Vec3, spacing: Vec3, outsideIsBackground = true): Float32Array {
  const [nx, ny, nz] = dims;
  const sxy = nx * ny;
  const out = new Float32Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = mask[p] === 0 ? 0 : INF;
  const nmax = Math.max(nx, ny, nz);
  const f = new Float64Array(nmax);
  const d = new Float64Array(nmax);
  const v = new Int32Array(nmax);
  const z = new Float64Array(nmax + 1);

  // pass along x
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const base = j * nx + k * sxy;
      let any = false;
      for (let i = 0; i < nx; i++) {
        f[i] = out[base + i];
        if (f[i] !== 0) any = true;
      }
      if (!any) continue;
      dt1d(f, nx, spacing[0], d, v, z, outsideIsBackground);
      for (let i = 0; i < nx; i++) out[base + i] = d[i];
    }
  }
  // pass along y
  for (let k = 0; k < nz; k++) {
    for (let i = 0; i < nx; i++) {
      const base = i + k * sxy;
      let any = false;
      for (let j = 0; j < ny; j++) {
        f[j] = out[base + j * nx];
        if (f[j] !== 0) any = true;
      }
      if (!any) continue;
      dt1d(f, ny, spacing[1], d, v, z, outsideIsBackground);
      for (let j = 0; j < ny; j++) out[base + j * nx] = d[j];
    }
  }
  // pass along z
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const base = i + j * nx;
      let any = false;
      for (let k = 0; k < nz; k++) {
        f[k] = out[base + k * sxy];
        if (f[k] !== 0) any = true;
      }
      if (!any) continue;
      dt1d(f, nz, spacing[2], d, v, z, outsideIsBackground);
      for (let k = 0; k < nz; k++) out[base + k * sxy] = d[k];
    }
  }
  return out;
}
