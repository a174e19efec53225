import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabelMap, Vec3, Volume, VolumeGeometry } from '../../core/volume.ts';
import { patientToIndex } from '../../core/volume.ts';
import { loadVolumeFromDir } from '../volume/index.ts';
import { labelMapOf, niftiMaskOnGrid, syntheticVolume } from '../../../test/support/rt-ct.ts';
import { TEST_LUNG_MANIFEST } from '../../../test/support/rt-manifest.ts';
import { dciodvfy } from '../../../test/support/rt-tools.ts';
import { REPO_ROOT, CIP64_DICOM_DIR, CIP64_DIR } from '../../../test/support/testdata.ts';
import { writeRtstruct } from '../rtstruct/write.ts';
import { writeSeg } from './write.ts';

const run = promisify(execFile);

interface PydicomSeg {
  sopClassUid: string;
  rows: number;
  columns: number;
  orientation: number[];
  pixelSpacing: number[];
  segments: { number: number; label: string; type: string; category: string }[];
  frames: { segment: number; position: number[]; source: string; on: number[] }[];
}

/** The second, independent reader: pydicom (Debian python3-pydicom) decodes our SEG. */
async function readWithPydicom(part10: Uint8Array): Promise<PydicomSeg> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-seg-test-'));
  try {
    const f = join(dir, 'seg.dcm');
    await writeFile(f, part10);
    const { stdout } = await run('/usr/bin/python3', [join(REPO_ROOT, 'test', 'support', 'seg_pydicom.py'), f], { maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout) as PydicomSeg;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every (segment, slice) with foreground is one frame at the slice's position, with the same pixels. */
function assertSameSegmentation(seg: PydicomSeg, volume: Volume, labels: LabelMap): void {
  const [nx, ny, nz] = volume.dims;
  assert.equal(seg.sopClassUid, '1.2.840.10008.5.1.4.1.1.66.4');
  assert.deepEqual([seg.columns, seg.rows], [nx, ny]);
  const [r, c] = volume.direction;
  seg.orientation.forEach((v, i) => assert.ok(Math.abs(v - [...r, ...c][i]) < 1e-6));
  assert.ok(Math.abs(seg.pixelSpacing[0] - volume.spacing[1]) < 1e-6 && Math.abs(seg.pixelSpacing[1] - volume.spacing[0]) < 1e-6);
  assert.deepEqual(
    seg.segments.map((s) => [s.number, s.label, s.type, s.category]),
    TEST_LUNG_MANIFEST.labels.map((l, i) => [i + 1, l.roiName, l.concept.code, l.category.code]),
  );
  const seen = new Set<string>();
  for (const f of seg.frames) {
    const [, , kf] = patientToIndex(volume, f.position as unknown as Vec3);
    const k = Math.round(kf);
    assert.ok(Math.abs(kf - k) < 1e-3 && k >= 0 && k < nz, `frame at ${f.position} is on no slice`);
    const [i0, j0] = patientToIndex(volume, f.position as unknown as Vec3);
    assert.ok(Math.abs(i0) < 1e-3 && Math.abs(j0) < 1e-3, 'frame origin is the slice origin');
    assert.equal(f.source, volume.meta.slices[k].sopInstanceUid);
    const value = TEST_LUNG_MANIFEST.labels[f.segment - 1].value;
    const want: number[] = [];
    for (let p = 0; p < nx * ny; p++) if (labels.data[k * nx * ny + p] === value) want.push(p);
    assert.deepEqual(f.on, want, `segment ${f.segment} slice ${k}`);
    seen.add(`${f.segment}/${k}`);
  }
  for (let k = 0; k < nz; k++)
    TEST_LUNG_MANIFEST.labels.forEach((l, s) => {
      const has = labels.data.subarray(k * nx * ny, (k + 1) * nx * ny).includes(l.value);
      assert.equal(seen.has(`${s + 1}/${k}`), has, `segment ${s + 1} slice ${k}`);
    });
}

test('SEG on the real CT: dciodvfy clean, pydicom reads the same segments, geometry and pixels', async () => {
  const volume = await loadVolumeFromDir(CIP64_DICOM_DIR);
  const left = await niftiMaskOnGrid(join(CIP64_DIR, 'lung_left_mask.nii.gz'), volume);
  const right = await niftiMaskOnGrid(join(CIP64_DIR, 'lung_right_mask.nii.gz'), volume);
  const labels = labelMapOf(volume, [[1, left], [2, right]]);
  const out = writeSeg({ volume, labels, manifest: TEST_LUNG_MANIFEST });
  const report = await dciodvfy(out.part10);
  assert.deepEqual(report.errors, [], report.output);
  assert.equal(report.exitCode, 0);
  assert.ok(out.framesPerSegment.Lung_L > 0 && out.framesPerSegment.Lung_R > 0);
  assertSameSegmentation(await readWithPydicom(out.part10), volume, labels);

  // Deterministic, and distinct from the RTSTRUCT made from the same run.
  const again = writeSeg({ volume, labels, manifest: TEST_LUNG_MANIFEST });
  assert.equal(again.sopInstanceUid, out.sopInstanceUid);
  assert.equal(again.seriesInstanceUid, out.seriesInstanceUid);
  const rt = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST });
  assert.notEqual(rt.seriesInstanceUid, out.seriesInstanceUid);
});

test('SEG on an oblique synthetic series and on an empty result stays valid and readable', async () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const direction: [Vec3, Vec3, Vec3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]];
  const g: VolumeGeometry = { dims: [33, 27, 7], spacing: [0.7, 0.9, 2], origin: [10, -20, 5], direction };
  const volume = syntheticVolume(g, 'seg-oblique');
  const [nx, ny, nz] = g.dims;
  const a = new Uint8Array(nx * ny * nz);
  const b = new Uint8Array(nx * ny * nz);
  for (let k = 1; k < nz - 1; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (Math.hypot(i - 10, j - 12) < 3 + k) a[i + j * nx + k * nx * ny] = 1;
        if ((i + j + k) % 7 === 0 && i > 20) b[i + j * nx + k * nx * ny] = 1; // odd bit patterns
      }
  const labels = labelMapOf(g, [[1, a], [2, b]]);
  const out = writeSeg({ volume, labels, manifest: TEST_LUNG_MANIFEST });
  const report = await dciodvfy(out.part10);
  assert.deepEqual(report.errors, [], report.output);
  assertSameSegmentation(await readWithPydicom(out.part10), volume, labels);

  const empty = writeSeg({ volume, labels: labelMapOf(g, []), manifest: TEST_LUNG_MANIFEST });
  const er = await dciodvfy(empty.part10);
  assert.deepEqual(er.errors, [], er.output);
  const ep = await readWithPydicom(empty.part10);
  assert.equal(ep.frames.length, 1);
  assert.deepEqual(ep.frames[0].on, []);
});
