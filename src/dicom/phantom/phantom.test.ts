import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { indexToPatient, voxelVolumeMl, type Volume } from '../../core/volume.ts';
import { niftiToVolumeGrid, readNifti } from '../../io/nifti.ts';
import { loadVolume, listDicomFiles } from '../volume/load-volume.ts';
import { generateChestPhantom, type ChestPhantom } from './generate.ts';
import type { PatientPosition } from './options.ts';
import { writePhantomSeries, type WrittenPhantom } from './write-series.ts';

const run = promisify(execFile);
let dir: string;
let written: WrittenPhantom;
let loaded: Volume;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-phantom-'));
  written = await writePhantomSeries({ size: 96, slices: 48, seed: 3, patientId: 'PT-42', accessionNumber: 'ACC9' }, join(dir, 'hfs'));
  loaded = await loadVolume(written.files);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function count(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i];
  return n;
}

/** Centroid of a mask in patient coordinates (LPS mm). */
function centroid(p: ChestPhantom | { volume: Volume }, m: Uint8Array): [number, number, number] {
  const [nx, ny] = p.volume.dims;
  let si = 0;
  let sj = 0;
  let sk = 0;
  let n = 0;
  for (let q = 0; q < m.length; q++) {
    if (!m[q]) continue;
    si += q % nx;
    sj += Math.floor(q / nx) % ny;
    sk += Math.floor(q / (nx * ny));
    n++;
  }
  return indexToPatient(p.volume, si / n, sj / n, sk / n);
}

test('written series loads back with identical geometry, HU and identifiers', () => {
  const v = written.phantom.volume;
  assert.deepEqual(loaded.dims, v.dims);
  for (let a = 0; a < 3; a++) {
    assert.ok(Math.abs(loaded.origin[a] - v.origin[a]) < 1e-4, `origin ${loaded.origin} vs ${v.origin}`);
    assert.ok(Math.abs(loaded.spacing[a] - v.spacing[a]) < 1e-6, `spacing ${loaded.spacing} vs ${v.spacing}`);
    for (let b = 0; b < 3; b++) assert.ok(Math.abs(loaded.direction[a][b] - v.direction[a][b]) < 1e-9);
  }
  assert.ok(loaded.data instanceof Int16Array);
  assert.deepEqual(loaded.data, v.data);
  assert.equal(loaded.meta.patientId, 'PT-42');
  assert.equal(loaded.meta.accessionNumber, 'ACC9');
  assert.equal(loaded.meta.studyInstanceUid, v.meta.studyInstanceUid);
  assert.deepEqual(loaded.meta.slices.map((s) => s.sopInstanceUid), v.meta.slices.map((s) => s.sopInstanceUid));
  assert.equal(new Set(loaded.meta.slices.map((s) => s.sopInstanceUid)).size, 48);
});

test('truth masks are plausible: lung volumes, right lung larger, organs disjoint, NIfTI copies match', async () => {
  const p = written.phantom;
  const ml = voxelVolumeMl(p.volume);
  const vol = (name: string) => count(p.truth[name]) * ml;
  assert.ok(vol('Lung_L') > 1500 && vol('Lung_L') < 4000, `Lung_L ${vol('Lung_L')} mL`);
  assert.ok(vol('Lung_R') > vol('Lung_L') && vol('Lung_R') < 4500, `Lung_R ${vol('Lung_R')} mL`);
  assert.ok(vol('Heart') > 300 && vol('Heart') < 1200, `Heart ${vol('Heart')} mL`);
  assert.ok(vol('Trachea') > 5 && vol('SpinalCanal') > 5);
  const L = p.truth.Lung_L;
  const R = p.truth.Lung_R;
  const body = p.truth.Body;
  let bad = 0;
  for (let i = 0; i < L.length; i++) if ((L[i] && R[i]) || (L[i] && !body[i])) bad++;
  assert.equal(bad, 0, 'lungs overlap each other or leave the body');
  // Lung voxels are mostly around −850 HU.
  let sum = 0;
  for (let i = 0; i < L.length; i++) if (L[i]) sum += p.volume.data[i];
  assert.ok(sum / count(L) < -700, `mean lung HU ${sum / count(L)}`);
  const fromNifti = niftiToVolumeGrid(await readNifti(written.truthFiles.Lung_L), loaded);
  assert.deepEqual(fromNifti, L);
});

test('trachea and main bronchi are air connected to the lungs (a segmenter must cut them off)', () => {
  const p = written.phantom;
  const [nx, ny, nz] = p.volume.dims;
  const air = (q: number) => p.volume.data[q] < -500 && p.truth.Body[q] === 1;
  // Flood fill through body air from the top of the trachea.
  const T = p.truth.Trachea;
  let seed = -1;
  for (let q = T.length - 1; q >= 0 && seed < 0; q--) if (T[q] && air(q)) seed = q;
  assert.ok(seed >= 0);
  const seen = new Uint8Array(T.length);
  const stack = [seed];
  seen[seed] = 1;
  let reachedL = false;
  let reachedR = false;
  while (stack.length) {
    const q = stack.pop()!;
    if (p.truth.Lung_L[q]) reachedL = true;
    if (p.truth.Lung_R[q]) reachedR = true;
    const i = q % nx;
    const j = Math.floor(q / nx) % ny;
    const k = Math.floor(q / (nx * ny));
    for (const [di, dj, dk] of [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]) {
      const a = i + di, b = j + dj, c = k + dk;
      if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
      const r = a + b * nx + c * nx * ny;
      if (!seen[r] && air(r)) {
        seen[r] = 1;
        stack.push(r);
      }
    }
  }
  assert.ok(reachedL && reachedR, `air path from the trachea reaches left ${reachedL} / right ${reachedR} lung`);
});

test('patient positions: the left lung is at larger LPS x and the table is behind (supine) or in front (prone)', () => {
  for (const pos of ['HFS', 'FFS', 'HFP', 'FFP'] as PatientPosition[]) {
    const p = generateChestPhantom({ size: 64, slices: 24, patientPosition: pos, noise: 0 });
    const l = centroid(p, p.truth.Lung_L);
    const r = centroid(p, p.truth.Lung_R);
    assert.ok(l[0] > r[0] + 100, `${pos}: Lung_L x ${l[0]} vs Lung_R x ${r[0]}`);
    // Table: HU of the table core; its patient y is posterior (+) for supine, anterior (−) for prone.
    const table = new Uint8Array(p.tissues.length);
    for (let q = 0; q < table.length; q++) table[q] = p.tissues[q] === 19 ? 1 : 0;
    const t = centroid(p, table);
    assert.ok(pos.endsWith('S') ? t[1] > 100 : t[1] < -100, `${pos}: table at y ${t[1]}`);
    // In the image the table is at the bottom (large row index j) whatever the position.
    const [nx, ny] = p.volume.dims;
    let sj = 0;
    let n = 0;
    for (let q = 0; q < table.length; q++) if (table[q]) { sj += Math.floor(q / nx) % ny; n++; }
    assert.ok(sj / n > ny * 0.7, `${pos}: table rows ${sj / n}`);
    // Feet-first stacks run the other way along z.
    const dz = p.volume.direction[2][2];
    assert.equal(Math.sign(dz), pos.startsWith('HF') ? 1 : -1);
  }
});

test('deterministic per seed; anterior junction makes the lungs touch; oblique loads with its true orientation', async () => {
  const a = generateChestPhantom({ size: 48, slices: 12, seed: 9 });
  const b = generateChestPhantom({ size: 48, slices: 12, seed: 9 });
  const c = generateChestPhantom({ size: 48, slices: 12, seed: 10 });
  assert.deepEqual(a.volume.data, b.volume.data);
  assert.equal(a.volume.meta.studyInstanceUid, b.volume.meta.studyInstanceUid);
  assert.notEqual(a.volume.meta.studyInstanceUid, c.volume.meta.studyInstanceUid);
  const touching = (p: ChestPhantom) => {
    const [nx] = p.volume.dims;
    for (let q = 0; q + 1 < p.tissues.length; q++) if ((p.truth.Lung_L[q] && p.truth.Lung_R[q + 1]) || (p.truth.Lung_R[q] && p.truth.Lung_L[q + 1])) if ((q + 1) % nx !== 0) return true;
    return false;
  };
  assert.equal(touching(generateChestPhantom({ size: 96, slices: 30, anteriorJunction: false })), false);
  assert.equal(touching(generateChestPhantom({ size: 96, slices: 30, anteriorJunction: true })), true);
  const ob = await writePhantomSeries({ size: 48, slices: 16, obliqueDeg: 20 }, join(dir, 'oblique'), false);
  const v = await loadVolume(await listDicomFiles([ob.dicomDir]));
  assert.ok(Math.abs(v.direction[1][2] - Math.sin((20 * Math.PI) / 180)) < 1e-6, `colDir ${v.direction[1]}`);
  assert.deepEqual(v.data, ob.phantom.volume.data);
});

test('MR variant: MR Image Storage, skipped by the CT loader, and both IODs pass dciodvfy', async () => {
  const mr = await writePhantomSeries({ size: 32, slices: 4, modality: 'MR' }, join(dir, 'mr'), false);
  await assert.rejects(loadVolume(mr.files), (e) => isDfaError(e, 'DICOM_NOT_CT'));
  const v = await loadVolume(mr.files, { modalities: ['MR'] });
  assert.equal(v.meta.slices[0].sopClassUid, '1.2.840.10008.5.1.4.1.1.4');
  for (const f of [written.files[0], mr.files[0]]) {
    // dciodvfy exits non-zero on errors; the output lists them.
    const { stdout, stderr } = await run('dciodvfy', [f]).catch((e: { stdout: string; stderr: string }) => e);
    const out = `${stdout}${stderr}`;
    assert.doesNotMatch(out, /^Error/m, out);
    assert.doesNotMatch(out, /^Warning/m, out);
  }
});
