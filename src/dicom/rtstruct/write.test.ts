import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import type { Vec3, VolumeGeometry } from '../../core/volume.ts';
import { dcmjs } from '../parse/dcmjs.ts';
import { loadVolume, loadVolumeFromDir } from '../volume/index.ts';
import { writeSeg } from '../seg/write.ts';
import { niftiToVolumeGrid, readNifti } from '../../io/nifti.ts';
import { labelMapOf, niftiMaskOnGrid, syntheticVolume } from '../../../test/support/rt-ct.ts';
import { TEST_LUNG_MANIFEST } from '../../../test/support/rt-manifest.ts';
import { dciodvfy, dice, plastimatchMasks, plastimatchSeriesToNrrd } from '../../../test/support/rt-tools.ts';
import { CIP64_DICOM_DIR, CIP64_DIR, ODD_DICOM_DIR } from '../../../test/support/testdata.ts';
import { readRtstruct } from './read.ts';
import { rtstructToLabelMap } from './to-labelmap.ts';
import { writeRtstruct } from './write.ts';

const NOW = new Date('2026-01-02T03:04:05Z');

function parse(part10: Uint8Array): Record<string, any> {
  const { DicomMessage, DicomMetaDictionary } = dcmjs().data;
  const ab = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(ab).dict) as Record<string, any>;
}

test('real CT + ground-truth lungs: dciodvfy clean, plastimatch round trip Dice ≥ 0.98 (exact, with and without --xor-contours)', async () => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  // The product's NIfTI reader (RAS → LPS) puts the masks on the CT grid; an independent
  // nearest-neighbour resampling from the raw affine must agree voxel for voxel.
  const left = niftiToVolumeGrid(await readNifti(join(CIP64_DIR, 'lung_left_mask.nii.gz')), volume);
  const right = niftiToVolumeGrid(await readNifti(join(CIP64_DIR, 'lung_right_mask.nii.gz')), volume);
  assert.deepEqual(await niftiMaskOnGrid(join(CIP64_DIR, 'lung_left_mask.nii.gz'), volume), left.map((v) => (v ? 1 : 0)));
  // Left lung is on the patient's left: larger LPS x than the right lung.
  const meanX = (m: Uint8Array) => {
    let s = 0;
    let n = 0;
    for (let i = 0; i < m.length; i++) {
      if (!m[i]) continue;
      s += i % volume.dims[0];
      n++;
    }
    return s / n;
  };
  assert.ok(volume.direction[0][0] > 0 && meanX(left) > meanX(right), 'left lung lies at larger x (patient left, LPS)');
  const labels = labelMapOf(volume, [[1, left], [2, right]]);
  const out = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST, now: NOW });

  const report = await dciodvfy(out.part10);
  assert.deepEqual(report.errors, [], report.output);
  assert.equal(report.exitCode, 0);

  // The RTSTRUCT references every CT slice and carries the manifest's names, colours and codes.
  const ds = parse(out.part10);
  assert.equal(ds.Modality, 'RTSTRUCT');
  assert.equal(ds.SOPInstanceUID, out.sopInstanceUid);
  assert.equal(ds.StudyInstanceUID, volume.meta.studyInstanceUid);
  const refSeries = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0];
  assert.equal(refSeries.SeriesInstanceUID, volume.meta.seriesInstanceUid);
  assert.deepEqual(
    refSeries.ContourImageSequence.map((c: any) => c.ReferencedSOPInstanceUID).sort(),
    volume.meta.slices.map((s) => s.sopInstanceUid).sort(),
  );
  assert.deepEqual(ds.StructureSetROISequence.map((r: any) => r.ROIName), ['Lung_L', 'Lung_R']);
  assert.ok(ds.StructureSetROISequence.every((r: any) => r.ROIGenerationAlgorithm === 'AUTOMATIC'));
  assert.equal(ds.StructureSetROISequence[0].ROIDerivationAlgorithmIdentificationSequence[0].AlgorithmName, 'test-lung');
  assert.deepEqual(ds.ROIContourSequence[1].ROIDisplayColor.map(Number), [0, 160, 255]);
  assert.deepEqual(ds.RTROIObservationsSequence.map((o: any) => o.RTROIInterpretedType), ['ORGAN', 'ORGAN']);
  assert.equal(ds.RTROIObservationsSequence[0].RTROIIdentificationCodeSequence[0].CodeValue, '44029006');
  assert.ok(out.stats.Lung_L.contours > 0 && out.stats.Lung_R.contours > 0);

  // plastimatch rasterises on the CT grid as plastimatch itself reads it from the DICOM series.
  const dir = await mkdtemp(join(tmpdir(), 'dfa-rtss-test-'));
  try {
    const ctNrrd = join(dir, 'ct.nrrd');
    await plastimatchSeriesToNrrd(CIP64_DICOM_DIR, ctNrrd);
    for (const xorContours of [false, true]) {
      const masks = await plastimatchMasks(out.part10, ctNrrd, { xorContours });
      assert.deepEqual([...masks.keys()].sort(), ['Lung_L', 'Lung_R']);
      const dl = dice(masks.get('Lung_L')!.data, left);
      const dr = dice(masks.get('Lung_R')!.data, right);
      assert.ok(dl >= 0.98 && dr >= 0.98, `Dice L ${dl} R ${dr} (xor ${xorContours})`);
      // Holes are keyholes, so OR-ing (plastimatch's default) and XOR-ing both give the mask back exactly.
      assert.deepEqual([dl, dr], [1, 1]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('UIDs are deterministic per (source series, model, version); a new version gives new UIDs', async () => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const labels = labelMapOf(volume, []);
  const a = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST, now: NOW });
  const b = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST, now: new Date() });
  const c = writeRtstruct({ volume, labels, manifest: { ...TEST_LUNG_MANIFEST, version: '0.0.2' }, now: NOW });
  assert.equal(a.sopInstanceUid, b.sopInstanceUid);
  assert.equal(a.seriesInstanceUid, b.seriesInstanceUid);
  assert.notEqual(a.sopInstanceUid, c.sopInstanceUid);
  assert.notEqual(a.seriesInstanceUid, c.seriesInstanceUid);
  assert.notEqual(a.seriesInstanceUid, volume.meta.seriesInstanceUid);
  // Empty labels: ROIs are still declared, without contours, and the object is still valid.
  assert.deepEqual(a.stats, { Lung_L: { contours: 0, points: 0 }, Lung_R: { contours: 0, points: 0 } });
  const report = await dciodvfy(a.part10);
  assert.deepEqual(report.errors, [], report.output);
});

function ellipsoids(g: VolumeGeometry): Uint8Array[] {
  const [nx, ny, nz] = g.dims;
  const l = new Uint8Array(nx * ny * nz);
  const r = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const idx = i + j * nx + k * nx * ny;
        const z = (k - nz / 2) / (nz / 2.5);
        const el = ((i - nx * 0.3) / (nx * 0.2)) ** 2 + ((j - ny / 2) / (ny * 0.35)) ** 2 + z * z;
        const er = ((i - nx * 0.7) / (nx * 0.2)) ** 2 + ((j - ny / 2) / (ny * 0.35)) ** 2 + z * z;
        if (el < 1 && el > 0.15) l[idx] = 1; // hollow: holes on the middle slices
        if (er < 1) r[idx] = 1;
      }
  return [l, r];
}

test('oblique synthetic series: dciodvfy clean and plastimatch round trip on the oblique grid', async () => {
  const c = Math.cos(0.4);
  const s = Math.sin(0.4);
  const direction: [Vec3, Vec3, Vec3] = [[c, s, 0], [0, 0, -1], [-s, c, 0]]; // coronal-ish, rotated
  const g: VolumeGeometry = { dims: [40, 36, 12], spacing: [1.2, 1.5, 3], origin: [-30, 20, 40], direction };
  const volume = syntheticVolume(g, 'oblique');
  const [l, r] = ellipsoids(g);
  const out = writeRtstruct({ volume, labels: labelMapOf(g, [[1, l], [2, r]]), manifest: TEST_LUNG_MANIFEST, now: NOW });
  const report = await dciodvfy(out.part10);
  assert.deepEqual(report.errors, [], report.output);
  const masks = await plastimatchMasks(out.part10, g);
  assert.equal(dice(masks.get('Lung_L')!.data, l), 1);
  assert.equal(dice(masks.get('Lung_R')!.data, r), 1);
});

test('gantry-tilted synthetic series (slices sheared along y): dciodvfy clean, our reader gives the mask back', async () => {
  const t = (15 * Math.PI) / 180;
  // Axial images, but each slice shifted in y: the stack direction leans 15° from the image normal.
  const g: VolumeGeometry = { dims: [30, 30, 10], spacing: [1, 1, 3 / Math.cos(t)], origin: [-15, -15, 0], direction: [[1, 0, 0], [0, 1, 0], [0, Math.sin(t), Math.cos(t)]] };
  const volume = syntheticVolume(g, 'tilted');
  const [l] = ellipsoids(g);
  const out = writeRtstruct({ volume, labels: labelMapOf(g, [[1, l]]), manifest: TEST_LUNG_MANIFEST, now: NOW });
  const report = await dciodvfy(out.part10);
  assert.deepEqual(report.errors, [], report.output);
  const back = rtstructToLabelMap(readRtstruct(out.part10), volume);
  assert.deepEqual(back.problems, []);
  assert.equal(dice(back.labels.get('Lung_L')!, l), 1);
  // Contour z stays on its slice's plane: every point of a slice's contour has that slice's z.
  const ds = parse(out.part10);
  for (const c of ds.ROIContourSequence[0].ContourSequence) {
    const zs = new Set((c.ContourData as number[]).filter((_, i) => i % 3 === 2).map((z) => Number(z).toFixed(4)));
    assert.equal(zs.size, 1);
  }
});

test('multi-frame Enhanced CT: contours and SEG frames reference the frame; dciodvfy clean; reads back exactly', async () => {
  const volume = await loadVolume([join(ODD_DICOM_DIR, 'pydicom_data_store', 'eCT_Supplemental.dcm')]);
  const [nx, ny, nz] = volume.dims;
  assert.equal(new Set(volume.meta.slices.map((s) => s.sopInstanceUid)).size, 1, 'one instance, several frames');
  const disc = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (Math.hypot(i - 200, j - 260) < 40 + 20 * k) disc[i + j * nx + k * nx * ny] = 1;
  const labels = labelMapOf(volume, [[1, disc]]);
  const rt = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST, now: NOW });
  const seg = writeSeg({ volume, labels, manifest: TEST_LUNG_MANIFEST, now: NOW });
  for (const o of [rt, seg]) {
    const report = await dciodvfy(o.part10);
    assert.deepEqual(report.errors, [], report.output);
  }
  const ds = parse(rt.part10);
  const frames = ds.ROIContourSequence[0].ContourSequence.map((c: any) => Number(c.ContourImageSequence[0].ReferencedFrameNumber));
  assert.deepEqual([...new Set(frames)].sort(), [1, 2]);
  const back = rtstructToLabelMap(readRtstruct(rt.part10), volume);
  assert.deepEqual(back.problems, []);
  assert.equal(dice(back.labels.get('Lung_L')!, disc), 1);
});

test('refuses geometry it cannot represent with DICOM_BAD_GEOMETRY', () => {
  const g: VolumeGeometry = { dims: [8, 8, 4], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
  const volume = syntheticVolume(g, 'irregular');
  const labels = labelMapOf(g, []);
  // Irregular spacing: one slice is not where the regular grid puts it.
  const slices = volume.meta.slices.map((sl, k) => (k === 2 ? { ...sl, position: [0, 0, 4.7] as Vec3 } : sl));
  const irregular = { ...volume, meta: { ...volume.meta, slices } };
  assert.throws(() => writeRtstruct({ volume: irregular, labels, manifest: TEST_LUNG_MANIFEST }), (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY') && /slice 2/.test(e.message));
  const wrongGrid = { ...labels, dims: [8, 8, 3] as Vec3 };
  assert.throws(() => writeRtstruct({ volume, labels: wrongGrid, manifest: TEST_LUNG_MANIFEST }), (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY'));
});
