import { deterministicUid } from '../../core/uid.ts';
import type { SliceRef, Volume, VolumeGeometry } from '../../core/volume.ts';
import { ChestModel, prng } from './anatomy.ts';
import { phantomGeometry, resolvePhantomOptions, type PhantomOptions, type ResolvedPhantomOptions } from './options.ts';
import { CT_HU, MR_SIGNAL, TISSUE_COUNT, TRAP_STRUCTURES, TRUTH_STRUCTURES } from './tissues.ts';

export interface ChestPhantom {
  readonly options: ResolvedPhantomOptions;
  /** HU for CT (Int16), arbitrary signal for MR; geometry in LPS like every loaded volume. */
  readonly volume: Volume;
  /** Ground-truth masks on the volume's grid, keyed by TG-263 name (computed on first access). */
  readonly truth: Readonly<Record<string, Uint8Array>>;
  /** The tissue class of every voxel (see tissues.ts). */
  readonly tissues: Uint8Array;
}

export interface PhantomUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid: string;
  sopInstanceUid(k: number): string;
}

/** Deterministic UIDs from the seed and identifiers: the same options give the same study. */
export function phantomUids(o: ResolvedPhantomOptions): PhantomUids {
  const key = ['dfa-phantom', String(o.seed), o.patientId, o.modality, o.patientPosition, String(o.size), String(o.slices)];
  // scenarios get their own UIDs; the default phantom keeps the ones it always had
  if (o.centreZ !== 0 || o.traps.length > 0 || o.pathology.length > 0) key.push(`z${o.centreZ}`, ...o.traps, ...o.pathology);
  const study = o.studyInstanceUid ?? deterministicUid(...key, 'study');
  const series = deterministicUid(...key, study, 'series');
  return {
    studyInstanceUid: study,
    seriesInstanceUid: series,
    frameOfReferenceUid: deterministicUid(...key, study, 'frame-of-reference'),
    sopInstanceUid: (k) => deterministicUid(series, 'instance', String(k)),
  };
}

const NOISE_N = 1 << 16;

function gaussianTable(seed: number, n: number, sigma: number): Int16Array {
  const r = prng(seed ^ 0x5bd1e995);
  const t = new Int16Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * sigma;
    t[i] = Math.round(m * Math.cos(2 * Math.PI * v));
    if (i + 1 < n) t[i + 1] = Math.round(m * Math.sin(2 * Math.PI * v));
  }
  return t;
}

/** Tissue value + Gaussian noise (from a table, at a random offset per row), clamped to the CT range. */
function addNoise(tissues: Uint8Array, lut: Int16Array, nx: number, noise: Int16Array, rand: () => number, lo: number): Int16Array {
  const data = new Int16Array(tissues.length);
  for (let off = 0; off < tissues.length; off += nx) {
    const n0 = Math.floor(rand() * NOISE_N);
    for (let i = 0; i < nx; i++) {
      const v = lut[tissues[off + i]] + noise[n0 + i];
      data[off + i] = v < lo ? lo : v > 3071 ? 3071 : v;
    }
  }
  return data;
}

function truthMasks(tissues: Uint8Array, structures: Readonly<Record<string, readonly number[]>>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, members] of Object.entries(structures)) {
    let cache: Uint8Array | undefined;
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        if (cache) return cache;
        const lut = new Uint8Array(256);
        for (const m of members) lut[m] = 1;
        cache = new Uint8Array(tissues.length);
        for (let i = 0; i < tissues.length; i++) cache[i] = lut[tissues[i]];
        return cache;
      },
    });
  }
  return out;
}

/** Tissue class per voxel on a geometry whose rows run along ±x (axial or oblique-about-x). */
export function paintTissues(g: VolumeGeometry, model: ChestModel): Uint8Array {
  const [nx, ny, nz] = g.dims;
  const [row, col, sl] = g.direction;
  if (Math.abs(row[1]) > 1e-9 || Math.abs(row[2]) > 1e-9) throw new Error('phantom rows must run along the patient x axis');
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const a = j * g.spacing[1];
      const c = k * g.spacing[2];
      const x0 = g.origin[0] + a * col[0] + c * sl[0];
      const y = g.origin[1] + a * col[1] + c * sl[1];
      const z = g.origin[2] + a * col[2] + c * sl[2];
      const off = (k * ny + j) * nx;
      model.paintRow(y, z, x0, g.spacing[0] * row[0], out.subarray(off, off + nx));
    }
  }
  return out;
}

/** A synthetic chest CT (or MR) with its ground truth. Deterministic for a given seed. */
export function generateChestPhantom(opts: PhantomOptions = {}): ChestPhantom {
  const o = resolvePhantomOptions(opts);
  const g = phantomGeometry(o);
  const prone = o.patientPosition === 'HFP' || o.patientPosition === 'FFP';
  const model = new ChestModel({ seed: o.seed, anteriorJunction: o.anteriorJunction, prone, traps: o.traps, pathology: o.pathology });
  const tissues = paintTissues(g, model);
  const [nx, , nz] = g.dims;
  const values = o.modality === 'CT' ? CT_HU : MR_SIGNAL;
  const lut = new Int16Array(256);
  for (let t = 0; t < TISSUE_COUNT; t++) lut[t] = values[t];
  const data = addNoise(tissues, lut, nx, gaussianTable(o.seed, NOISE_N + nx, o.noise), prng(o.seed * 7919 + 17), o.modality === 'CT' ? -1024 : 0);
  const uids = phantomUids(o);
  const sopClassUid = o.modality === 'CT' ? '1.2.840.10008.5.1.4.1.1.2' : '1.2.840.10008.5.1.4.1.1.4';
  const slices: SliceRef[] = Array.from({ length: nz }, (_, k) => ({
    sopInstanceUid: uids.sopInstanceUid(k),
    sopClassUid,
    position: [0, 1, 2].map((a) => g.origin[a] + k * g.spacing[2] * g.direction[2][a]) as unknown as SliceRef['position'],
  }));
  const volume: Volume = {
    ...g,
    data,
    meta: {
      studyInstanceUid: uids.studyInstanceUid,
      seriesInstanceUid: uids.seriesInstanceUid,
      frameOfReferenceUid: uids.frameOfReferenceUid,
      modality: o.modality,
      patientId: o.patientId,
      patientName: o.patientName,
      patientSex: 'O',
      patientBirthDate: '19600101',
      studyDate: o.studyDate,
      studyTime: '120000',
      studyId: '1',
      accessionNumber: o.accessionNumber,
      studyDescription: o.studyDescription,
      seriesDescription: `Synthetic chest ${o.modality} ${o.patientPosition} seed ${o.seed}`,
      slices,
    },
  };
  const structures = o.traps.length > 0 || o.pathology.length > 0 ? { ...TRUTH_STRUCTURES, ...TRAP_STRUCTURES } : TRUTH_STRUCTURES;
  return { options: o, volume, truth: truthMasks(tissues, structures), tissues };
}
