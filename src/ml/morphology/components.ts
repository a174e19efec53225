import type { Vec3 } from '../../core/volume.ts';

/**
 * Connected-component labelling of binary masks by breadth-first flood fill on typed arrays
 * (no recursion, no per-voxel objects). Label 0 = background; labels 1..count in scan order.
 * The hot paths use the run-length labeller (runs.ts); this one also offers 26-connectivity and
 * serves as the reference the run-length one is tested against. IndexQueue is the shared FIFO.
 */
export interface Components {
  readonly labels: Int32Array;
  /** sizes[l] = voxel count of label l; sizes[0] = 0. */
  readonly sizes: Int32Array;
  readonly count: number;
}

/** A FIFO of voxel indices that grows when full; the frontier of a flood is far smaller than the volume. */
export class IndexQueue {
  private buf: Int32Array;
  private head = 0;
  private tail = 0;
  private n = 0;
  constructor(capacity = 1 << 16) {
    this.buf = new Int32Array(capacity);
  }
  get length(): number {
    return this.n;
  }
  push(v: number): void {
    if (this.n === this.buf.length) this.grow();
    this.buf[this.tail] = v;
    this.tail = this.tail + 1 === this.buf.length ? 0 : this.tail + 1;
    this.n++;
  }
  shift(): number {
    const v = this.buf[this.head];
    this.head = this.head + 1 === this.buf.length ? 0 : this.head + 1;
    this.n--;
    return v;
  }
  clear(): void {
    this.head = this.tail = this.n = 0;
  }
  private grow(): void {
    const next = new Int32Array(this.buf.length * 2);
    for (let i = 0; i < this.n; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = next;
    this.head = 0;
    this.tail = this.n;
  }
}

/** Label the 6-connected (face) or 26-connected components of mask != 0 in a 3D x-fastest grid. */
export function labelComponents3d(mask: Uint8Array, dims: Vec3, connectivity: 6 | 26 = 6): Components {
  const [nx, ny, nz] = dims;
  const sxy = nx * ny;
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [0];
  const q = new IndexQueue();
  let next = 0;
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = ++next;
    let size = 0;
    labels[start] = label;
    q.push(start);
    while (q.length > 0) {
      const p = q.shift();
      size++;
      const k = (p / sxy) | 0;
      const r = p - k * sxy;
      const j = (r / nx) | 0;
      const i = r - j * nx;
      if (connectivity === 6) {
        if (i > 0 && mask[p - 1] !== 0 && labels[p - 1] === 0) { labels[p - 1] = label; q.push(p - 1); }
        if (i < nx - 1 && mask[p + 1] !== 0 && labels[p + 1] === 0) { labels[p + 1] = label; q.push(p + 1); }
        if (j > 0 && mask[p - nx] !== 0 && labels[p - nx] === 0) { labels[p - nx] = label; q.push(p - nx); }
        if (j < ny - 1 && mask[p + nx] !== 0 && labels[p + nx] === 0) { labels[p + nx] = label; q.push(p + nx); }
        if (k > 0 && mask[p - sxy] !== 0 && labels[p - sxy] === 0) { labels[p - sxy] = label; q.push(p - sxy); }
        if (k < nz - 1 && mask[p + sxy] !== 0 && labels[p + sxy] === 0) { labels[p + sxy] = label; q.push(p + sxy); }
      } else {
        for (let dk = -1; dk <= 1; dk++) {
          const kk = k + dk;
          if (kk < 0 || kk >= nz) continue;
          for (let dj = -1; dj <= 1; dj++) {
            const jj = j + dj;
            if (jj < 0 || jj >= ny) continue;
            for (let di = -1; di <= 1; di++) {
              const ii = i + di;
              if (ii < 0 || ii >= nx) continue;
              const n = ii + jj * nx + kk * sxy;
              if (mask[n] !== 0 && labels[n] === 0) { labels[n] = label; q.push(n); }
            }
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes: Int32Array.from(sizes), count: next };
}
