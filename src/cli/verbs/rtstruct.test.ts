import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRtstruct } from '../../dicom/rtstruct/read.ts';
import { main } from '../main.ts';
import { CIP64_DICOM_DIR, CIP64_DIR, RTSTRUCT_DIR } from '../../../test/support/testdata.ts';

async function dfa(...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s) });
  return { code, out };
}

test('dfa rtstruct read: ROIs, contours and volumes on the CT it was drawn on', async () => {
  const gtDir = join(CIP64_DIR, 'rtstruct_from_gt');
  const [file] = (await readdir(gtDir)).filter((f) => f.endsWith('.dcm'));
  const { code, out } = await dfa('rtstruct', 'read', join(gtDir, file), '--ct', CIP64_DICOM_DIR, '--json');
  assert.equal(code, 0);
  const r = JSON.parse(out.join('\n')) as { rois: { name: string; volumeMl: number; types: string[] }[]; problems: unknown[] };
  assert.deepEqual(r.rois.map((x) => x.name).sort(), ['Lung_L', 'Lung_R']);
  const total = r.rois.reduce((s, x) => s + x.volumeMl, 0);
  assert.ok(Math.abs(total - 4550) < 50, `lungs ${total} mL (≈ 4.55 L per the test data README)`);
  assert.deepEqual(r.problems, []);
});

test('dfa rtstruct read: problems are listed; a non-DICOM file and bad usage fail with a reason', async () => {
  const p = await dfa('rtstruct', 'read', join(RTSTRUCT_DIR, 'pydicom_rtstruct.dcm'));
  assert.equal(p.code, 0);
  assert.ok(p.out.some((l) => l.includes('POINT_CONTOUR [Isocenter 1]')));
  assert.equal((await dfa('rtstruct', 'read', join(CIP64_DICOM_DIR, 'IMG0001.dcm'))).code, 1);
  assert.equal((await dfa('rtstruct')).code, 2);
});

test('dfa rtstruct write: NIfTI masks on the CT → RTSTRUCT + SEG that read back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-rtstruct-verb-'));
  try {
    const rt = join(dir, 'rtss.dcm');
    const seg = join(dir, 'seg.dcm');
    const { code, out } = await dfa(
      'rtstruct', 'write', '--ct', CIP64_DICOM_DIR,
      '--mask', `Lung_L=${join(CIP64_DIR, 'lung_left_mask.nii.gz')}`,
      '--mask', `Lung_R=${join(CIP64_DIR, 'lung_right_mask.nii.gz')}`,
      '--out', rt, '--seg', seg, '--source', 'ground-truth',
    );
    assert.equal(code, 0, out.join('\n'));
    // PS3.3 C.8.8.5: reference masks are not the model's work.
    const bytes = await readFile(rt);
    assert.ok(bytes.includes('SEMIAUTOMATIC'), 'ROIGenerationAlgorithm SEMIAUTOMATIC');
    assert.ok(!bytes.includes('classical-lung'), 'no model named as the source');
    // A different contour set on the same CT never shares UIDs; the same one keeps them.
    const rt2 = join(dir, 'rtss2.dcm');
    const one = await dfa('rtstruct', 'write', '--ct', CIP64_DICOM_DIR, '--mask', `Lung_L=${join(CIP64_DIR, 'lung_left_mask.nii.gz')}`, '--out', rt2, '--source', 'manual');
    assert.equal(one.code, 0, one.out.join('\n'));
    const a = readRtstruct(new Uint8Array(bytes));
    const b = readRtstruct(new Uint8Array(await readFile(rt2)));
    assert.notEqual(a.sopInstanceUid, b.sopInstanceUid);
    assert.ok((await readFile(rt2)).includes('MANUAL'));
    const again = await dfa('rtstruct', 'write', '--ct', CIP64_DICOM_DIR, '--mask', `Lung_L=${join(CIP64_DIR, 'lung_left_mask.nii.gz')}`, '--out', rt2, '--source', 'manual');
    assert.equal(again.code, 0);
    assert.equal(readRtstruct(new Uint8Array(await readFile(rt2))).sopInstanceUid, b.sopInstanceUid);
    // Without --source (or --model) the verb does not guess who made the contours.
    assert.equal((await dfa('rtstruct', 'write', '--ct', CIP64_DICOM_DIR, '--mask', `Lung_L=${join(CIP64_DIR, 'lung_left_mask.nii.gz')}`, '--out', rt2)).code, 2);
    const back = readRtstruct(new Uint8Array(await readFile(rt)));
    assert.deepEqual(back.rois.map((r) => r.name).sort(), ['Lung_L', 'Lung_R']);
    assert.ok(back.rois.every((r) => r.contours.length > 50));
    assert.ok((await readFile(seg)).length > 1000);
    // A mask for an ROI the manifest does not know is refused with a reason: a bad argument, exit 2.
    const bad = await dfa('rtstruct', 'write', '--ct', CIP64_DICOM_DIR, '--mask', `Heart=${join(CIP64_DIR, 'lung_mask.nii.gz')}`, '--out', rt, '--source', 'manual');
    assert.equal(bad.code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
