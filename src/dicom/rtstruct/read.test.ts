import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import { loadVolume, loadVolumeFromDir } from '../volume/index.ts';
import { labelMapOf, loadCtGeometry, niftiMaskOnGrid } from '../../../test/support/rt-ct.ts';
import { TEST_LUNG_MANIFEST } from '../../../test/support/rt-manifest.ts';
import { dciodvfy, dice, plastimatchMasks } from '../../../test/support/rt-tools.ts';
import { CIP64_DICOM_DIR, CIP64_DIR, RTSTRUCT_DIR } from '../../../test/support/testdata.ts';
import { readRtstruct } from './read.ts';
import { rtstructToLabelMap } from './to-labelmap.ts';
import { writeRtstruct } from './write.ts';

async function dcmFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of (await readdir(dir)).sort()) {
    const p = join(dir, f);
    if ((await stat(p)).isDirectory()) out.push(...(await dcmFiles(p)));
    else if (f.endsWith('.dcm')) out.push(p);
  }
  return out;
}

const read = async (rel: string) => readRtstruct(new Uint8Array(await readFile(join(RTSTRUCT_DIR, rel))), rel);
const codes = (ps: { code: string }[]) => [...new Set(ps.map((p) => p.code))].sort();

test('every file in testdata/rtstruct is read or refused with RTSTRUCT_INVALID, never a crash', async () => {
  const files = await dcmFiles(RTSTRUCT_DIR);
  assert.ok(files.length >= 14);
  let read = 0;
  for (const f of files) {
    try {
      const r = readRtstruct(new Uint8Array(await readFile(f)), f);
      assert.ok(r.rois.length > 0, f);
      read++;
    } catch (e) {
      // Only the CT slices and the RT Plan beside the structure sets may be refused.
      assert.ok(isDfaError(e, 'RTSTRUCT_INVALID'), `${f}: ${String(e)}`);
      assert.match((e as Error).message, /not an RT Structure Set \(SOP Class [0-9.]+, Modality (CT|RTPLAN)\)/);
    }
  }
  assert.equal(read, 6);
  assert.throws(() => readRtstruct(new Uint8Array([1, 2, 3, 4]), 'junk'), (e) => isDfaError(e, 'RTSTRUCT_INVALID'));
});

test('dicompyler example: 10 ROIs, Lt Lung with 165 contours, the empty Areola reported', async () => {
  const r = await read('dicompyler_core_example/rtss.dcm');
  assert.equal(r.rois.length, 10);
  const lung = r.rois.find((x) => x.name === 'Lt Lung')!;
  assert.equal(lung.contours.length, 165);
  assert.ok(lung.contours.every((c) => c.type === 'CLOSED_PLANAR' && c.points.length >= 3 && c.referencedSopInstanceUid));
  assert.equal(lung.color?.length, 3);
  assert.deepEqual(r.problems.map((p) => [p.code, p.roi]), [['EMPTY_ROI', 'Areola']]);
});

test('dicompyler example on its one CT slice present: BODY is filled there, the rest reported once per ROI', async () => {
  const volume = await loadVolume([join(RTSTRUCT_DIR, 'dicompyler_core_example', 'ct.0.dcm')]);
  const m = rtstructToLabelMap(await read('dicompyler_core_example/rtss.dcm'), volume);
  const body = m.labels.get('BODY')!;
  const areaCm2 = (body.reduce((s, v) => s + v, 0) * volume.spacing[0] * volume.spacing[1]) / 100;
  assert.ok(areaCm2 > 300 && areaCm2 < 700, `BODY cross-section ${areaCm2} cm²`);
  const lung = m.problems.filter((p) => p.roi === 'Lt Lung');
  assert.deepEqual(lung.map((p) => p.code).sort(), ['NON_EXISTENT_REFERENCE', 'NOT_ON_A_SLICE']);
  assert.ok(lung.every((p) => /and \d+ more/.test(p.message)));
});

test('pydicom RTSTRUCT (no Part 10 header): POINT contours are read and reported', async () => {
  const r = await read('pydicom_rtstruct.dcm');
  assert.deepEqual(r.rois.map((x) => x.name), ['patient', 'Isocenter 1', 'Isocenter 2']);
  assert.equal(r.rois[1].contours[0].type, 'POINT');
  assert.equal(r.rois[1].contours[0].points.length, 1);
  assert.deepEqual(codes(r.problems), ['POINT_CONTOUR']);
});

test('rt-utils files: missing and dangling references are reported as problems', async () => {
  const mock = await loadCtGeometry(join(RTSTRUCT_DIR, 'rt_utils_tests', 'mock_data'));
  const none = await read('rt_utils_tests/mock_data/non_existent_reference_rt.dcm');
  assert.deepEqual(codes(none.problems), ['NO_REFERENCED_SERIES']);
  const invalid = await read('rt_utils_tests/mock_data/invalid_reference_rt.dcm');
  const m = rtstructToLabelMap(invalid, mock);
  assert.ok(codes(m.problems).includes('NON_EXISTENT_REFERENCE'));
  assert.ok(codes(m.problems).includes('NOT_ON_A_SLICE'));
  // Contours on the two slices that are present are still filled.
  assert.ok([...m.labels.values()].every((mask) => mask.some((v) => v === 1)));
  const other = rtstructToLabelMap(await read('rt_utils_tests/mock_data/rt.dcm'), mock);
  assert.deepEqual(codes(other.problems), ['FRAME_OF_REFERENCE_MISMATCH']);
});

test('our RTSTRUCT reads back to exactly the masks it was written from (real CT, and real oblique CT)', async () => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const left = await niftiMaskOnGrid(join(CIP64_DIR, 'lung_left_mask.nii.gz'), volume);
  const right = await niftiMaskOnGrid(join(CIP64_DIR, 'lung_right_mask.nii.gz'), volume);
  const out = writeRtstruct({ volume, labels: labelMapOf(volume, [[1, left], [2, right]]), manifest: TEST_LUNG_MANIFEST });
  const rtss = readRtstruct(out.part10);
  assert.deepEqual(rtss.problems, []);
  const back = rtstructToLabelMap(rtss, volume);
  assert.deepEqual(back.problems, []);
  assert.equal(dice(back.labels.get('Lung_L')!, left), 1);
  assert.equal(dice(back.labels.get('Lung_R')!, right), 1);

  // rt-utils' oblique CT (3 slices, IOP far from axial): a blob per slice, holes included.
  const orientedCt = await loadCtGeometry(join(RTSTRUCT_DIR, 'rt_utils_tests', 'oriented_data'));
  // These slices lack the (Type 1) FrameOfReferenceUID: the writer refuses rather than invent one.
  assert.throws(
    () => writeRtstruct({ volume: orientedCt, labels: labelMapOf(orientedCt, []), manifest: TEST_LUNG_MANIFEST }),
    (e) => isDfaError(e, 'DICOM_BAD_GEOMETRY') && /FrameOfReferenceUID/.test(e.message),
  );
  const oblique = { ...orientedCt, meta: { ...orientedCt.meta, frameOfReferenceUid: '1.2.826.0.1.3680043.9.7433.1.1' } };
  const [nx, ny, nz] = oblique.dims;
  const blob = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const d = Math.hypot(i - nx / 2, j - ny / 3);
        if (d < 60 + 10 * k && d > 20) blob[i + j * nx + k * nx * ny] = 1;
      }
  const o = writeRtstruct({ volume: oblique, labels: labelMapOf(oblique, [[2, blob]]), manifest: TEST_LUNG_MANIFEST });
  const report = await dciodvfy(o.part10);
  assert.deepEqual(report.errors, [], report.output);
  const ob = rtstructToLabelMap(readRtstruct(o.part10), oblique);
  assert.deepEqual(codes(ob.problems), []);
  assert.equal(dice(ob.labels.get('Lung_R')!, blob), 1);
  assert.equal(ob.labels.get('Lung_L')!.some((v) => v !== 0), false);
  const pm = await plastimatchMasks(o.part10, oblique);
  assert.equal(dice(pm.get('Lung_R')!.data, blob), 1);
});
