import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { isDfaError } from '../../core/errors.ts';
import type { Volume } from '../../core/volume.ts';
import { readNifti } from '../../io/nifti.ts';
import { CIP64_DICOM_DIR, CIP64_DIR, ODD_DICOM_DIR, RTSTRUCT_DIR } from '../../../test/support/testdata.ts';
import { readDicomFile, type ParsedDicom } from '../parse/read-part10.ts';
import { listDicomFiles, loadVolume, loadVolumeWithReport } from './load-volume.ts';

let files: string[];
let cip: ParsedDicom[];
let reference: Volume;

before(async () => {
  files = await listDicomFiles([CIP64_DICOM_DIR]);
  cip = await Promise.all(files.map(readDicomFile));
  reference = await loadVolume(files);
});

/** A copy of a parsed instance with some attributes replaced (for geometry fault cases). */
function variant(p: ParsedDicom, changes: Record<string, unknown>, label = p.source): ParsedDicom {
  return { ...p, source: label, dataset: { ...p.dataset, ...changes } };
}

const close = (a: readonly number[], b: readonly number[], tol: number) => a.every((x, i) => Math.abs(x - b[i]) <= tol);

test('CIP 64 chest CT: geometry matches the NIfTI masks’ affine (RAS→LPS) within 1e-3 mm', async () => {
  const v = reference;
  assert.deepEqual(v.dims, [64, 64, 79]);
  const n = await readNifti(join(CIP64_DIR, 'lung_mask.nii.gz'));
  const A = n.affineRas;
  // LPS = diag(-1,-1,1) · RAS: negate the first two rows.
  const lps = A.slice(0, 3).map((row, r) => (r < 2 ? row.map((x) => -x) : [...row]));
  const origin = lps.map((row) => row[3]);
  assert.ok(close(v.origin, origin, 1e-3), `origin ${v.origin} vs ${origin}`);
  for (let c = 0; c < 3; c++) {
    const axis = lps.map((row) => row[c]);
    const step = v.direction[c].map((d) => d * v.spacing[c]);
    assert.ok(close(step, axis, 1e-3), `axis ${c}: ${step} vs ${axis}`);
  }
  assert.equal(v.meta.slices.length, 79);
  assert.equal(v.meta.modality, 'CT');
  assert.ok(v.meta.frameOfReferenceUid.length > 0);
  // Slices ordered by position along the normal, positions consistent with the grid.
  for (let k = 0; k < 79; k++) assert.ok(Math.abs(v.meta.slices[k].position[2] - (v.origin[2] + k * v.spacing[2])) < 1e-3);
  // HU plausibility: air outside the body, lungs inside.
  assert.ok(v.data[0] < -900, `corner voxel ${v.data[0]} HU is not air`);
});

test('slice order comes from positions, not from file order or InstanceNumber', async () => {
  const shuffled = [...cip].reverse().map((p, i) => variant(p, { InstanceNumber: (i * 7) % 79 }));
  const v = await loadVolume(shuffled);
  assert.deepEqual(v.origin, reference.origin);
  assert.deepEqual(v.meta.slices.map((s) => s.sopInstanceUid), reference.meta.slices.map((s) => s.sopInstanceUid));
  assert.deepEqual(v.data, reference.data);
});

test('a missing slice is DICOM_MISSING_SLICES naming the neighbours', async () => {
  const sorted = reference.meta.slices.map((s) => cip.find((p) => p.dataset.SOPInstanceUID === s.sopInstanceUid)!);
  const gap = sorted.filter((_, k) => k !== 40);
  await assert.rejects(loadVolume(gap), (e) => isDfaError(e, 'DICOM_MISSING_SLICES') && /1 missing slice/.test(e.message) && e.message.includes(sorted[39].source));
});

test('the same instance twice is tolerated; two instances at one position are not', async () => {
  const twice = await loadVolume([...cip, cip[5]]);
  assert.equal(twice.dims[2], 79);
  const dup = variant(cip[5], { SOPInstanceUID: '1.2.3.4.5' }, 'dup.dcm');
  await assert.rejects(loadVolume([...cip, dup]), (e) => isDfaError(e, 'DICOM_INCONSISTENT_SERIES') && /same position/.test(e.message));
});

test('mixed orientations and sizes are DICOM_INCONSISTENT_SERIES', async () => {
  const odd = variant(cip[3], { ImageOrientationPatient: [0, 1, 0, 0, 0, -1] }, 'sagittal.dcm');
  await assert.rejects(loadVolume([...cip.slice(0, 3), odd, ...cip.slice(4)]), (e) => isDfaError(e, 'DICOM_INCONSISTENT_SERIES') && /orientation/.test(e.message));
  const big = variant(cip[3], { Rows: 128 }, 'big.dcm');
  await assert.rejects(loadVolume([...cip.slice(0, 3), big, ...cip.slice(4)]), (e) => isDfaError(e, 'DICOM_INCONSISTENT_SERIES') && /sizes/.test(e.message));
});

test('gantry tilt is refused with the angle, or kept as a sheared grid on request', async () => {
  const tanT = Math.tan((10 * Math.PI) / 180);
  const tilted = cip.map((p) => {
    const ipp = p.dataset.ImagePositionPatient as number[];
    const z = ipp[2];
    return variant(p, { ImagePositionPatient: [ipp[0], ipp[1] + (z - reference.origin[2]) * tanT, z] });
  });
  await assert.rejects(loadVolume(tilted), (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY') && /10\.00°/.test(e.message));
  const v = await loadVolume(tilted, { allowTilt: true });
  const last = v.meta.slices[78].position;
  const k = 78;
  const p = [0, 1, 2].map((a) => v.origin[a] + k * v.spacing[2] * v.direction[2][a]);
  assert.ok(close(p, last, 1e-3), `sheared grid reaches the last slice: ${p} vs ${last}`);
});

test('series selection: picks the CT, skips RTSTRUCT / MR / localizer with reasons; MR alone is DICOM_NOT_CT', async () => {
  const rtss = (await listDicomFiles([join(CIP64_DIR, 'rtstruct_from_gt')]))[0];
  const mr = join(ODD_DICOM_DIR, 'pydicom_test_files', 'MR_small.dcm');
  const scout = variant(cip[0], { SeriesInstanceUID: '1.2.3.999', ImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'], SOPInstanceUID: '1.2.3.999.1' }, 'scout.dcm');
  const readme = join(RTSTRUCT_DIR, '..', 'README.md');
  const extra = await Promise.all([rtss, mr].map(readDicomFile));
  const { volume, selection } = await loadVolumeWithReport([...cip, ...extra, scout]);
  assert.equal(volume.dims[2], 79);
  const reasons = selection.skipped.map((s) => s.reason).join(' | ');
  assert.match(reasons, /RT Structure Set/);
  assert.match(reasons, /modality MR is not CT/);
  assert.match(reasons, /localizer/);
  const withJunk = await loadVolumeWithReport([...files, readme]);
  assert.equal(withJunk.unreadable.length, 1);
  assert.match(withJunk.unreadable[0].reason, /not a DICOM file/);
  await assert.rejects(loadVolume([mr]), (e) => isDfaError(e, 'DICOM_NOT_CT') && /MR/.test(e.message));
  const mrVol = await loadVolume([mr], { modalities: ['MR'] });
  assert.deepEqual(mrVol.dims, [64, 64, 1]);
});

test('Enhanced CT multi-frame: geometry from the functional groups', async () => {
  const f = join(ODD_DICOM_DIR, 'pydicom_data_store', 'eCT_Supplemental.dcm');
  const v = await loadVolume([f]);
  assert.deepEqual(v.dims, [512, 512, 2]);
  assert.equal(v.meta.slices.length, 2);
  assert.equal(v.meta.slices[0].sopInstanceUid, v.meta.slices[1].sopInstanceUid);
  assert.ok(v.spacing[2] > 0);
});

test('Pixel Padding Value becomes air, not a ring of −2000 HU', async () => {
  const corner = reference.data[0];
  const padded = cip.map((p) => variant(p, { PixelPaddingValue: corner }));
  const v = await loadVolume(padded);
  assert.equal(v.data[0], -1024);
  let left = 0;
  let changed = 0;
  for (let i = 0; i < v.data.length; i++) {
    if (v.data[i] === corner) left++;
    if (v.data[i] !== reference.data[i]) {
      changed++;
      assert.equal(reference.data[i], corner);
    }
  }
  assert.equal(left, 0);
  assert.ok(changed > 0);
});

test('rescale: integer shifts stay Int16, overflow or a fractional slope gives exact Float32', async () => {
  const shifted = await loadVolume(cip.map((p) => variant(p, { RescaleIntercept: 32000 })));
  assert.ok(shifted.data instanceof Float32Array, 'Int16 would overflow');
  const half = await loadVolume(cip.map((p) => variant(p, { RescaleSlope: 0.5, RescaleIntercept: -10 })));
  assert.ok(half.data instanceof Float32Array);
  for (const i of [0, 1000, 123456, reference.data.length - 1]) {
    assert.equal(shifted.data[i], reference.data[i] + 32000);
    assert.equal(half.data[i], reference.data[i] * 0.5 - 10);
  }
});

test('an ORIGINAL series is chosen over a DERIVED reformat with more slices', async () => {
  const sorted = reference.meta.slices.map((s) => cip.find((p) => p.dataset.SOPInstanceUID === s.sopInstanceUid)!);
  // A "reformat" series: 79 + 10 slices, marked DERIVED, on its own series UID.
  const derived = [...sorted, ...sorted.slice(0, 10)].map((p, k) => {
    const ipp = p.dataset.ImagePositionPatient as number[];
    return variant(p, { SeriesInstanceUID: '1.2.3.77', SOPInstanceUID: `1.2.3.77.${k}`, ImageType: ['DERIVED', 'SECONDARY', 'MPR'], ImagePositionPatient: [ipp[0], ipp[1], k * 2] }, `mpr${k}.dcm`);
  });
  const { volume, selection } = await loadVolumeWithReport([...cip, ...derived]);
  assert.equal(volume.meta.seriesInstanceUid, reference.meta.seriesInstanceUid);
  assert.match(selection.skipped.find((s) => s.seriesInstanceUid === '1.2.3.77')!.reason, /derived/);
});

test('listDicomFiles leaves out the temp files a crashed receive or WADO-RS download can leave behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-list-'));
  try {
    for (const name of ['a.dcm', '.dfa-1234-k3j9x0.tmp', '.part-1234-7', 'IM0001', '.part-x']) await writeFile(join(dir, name), 'x');
    assert.deepEqual((await listDicomFiles([dir])).map((f) => f.slice(dir.length + 1)), ['.part-x', 'IM0001', 'a.dcm']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
