import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CIP64_DICOM_DIR, CIP64_DIR } from '../../../test/support/testdata.ts';
import { memoryLogger } from '../../core/log.ts';
import { main } from '../main.ts';

// `dfa segment --truth` on the real CIP 64 chest CT (README: Dice 0.998/0.999 between its NIfTI
// masks and its RTSTRUCT) and `--series` on a folder holding two series.
const BIN = fileURLToPath(new URL('../../../bin/dfa.js', import.meta.url));

interface Structure {
  roi: string;
  dice: number;
  volumeMl: number;
  truthVolumeMl: number;
  differenceMl: number;
}
interface Out {
  seriesInstanceUid: string;
  dims: number[];
  volumesMl: Record<string, number>;
  otherSeries: { seriesInstanceUid: string; slices: number }[];
  truth?: { notes: string[]; structures: Structure[]; notCompared: string[] };
}

async function segment(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(['segment', ...args], { out: (s) => out.push(s), env: {}, log: memoryLogger() });
  return { code, out };
}

function spawnSegment(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'segment', ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const byRoi = (o: Out) => Object.fromEntries((o.truth?.structures ?? []).map((s) => [s.roi, s]));

test('segment --truth: Dice and volume difference per lung from NIfTI (split by side, or one file per lung) and RTSTRUCT', async () => {
  const split = await segment([CIP64_DICOM_DIR, '--json', '--truth', join(CIP64_DIR, 'lung_mask.nii.gz')]);
  assert.equal(split.code, 0, split.out.join('\n'));
  const perSide = await segment([
    CIP64_DICOM_DIR, '--json',
    '--truth', `Lung_L=${join(CIP64_DIR, 'lung_left_mask.nii.gz')}`,
    '--truth', `Lung_R=${join(CIP64_DIR, 'lung_right_mask.nii.gz')}`,
  ]);
  assert.equal(perSide.code, 0, perSide.out.join('\n'));
  const rtss = await segment([CIP64_DICOM_DIR, '--json', '--truth', join(CIP64_DIR, 'rtstruct_from_gt')]);
  assert.equal(rtss.code, 0, rtss.out.join('\n'));

  const [s, p, r] = [split, perSide, rtss].map((x) => JSON.parse(x.out[0]) as Out);
  for (const [name, o] of [['split', s], ['per side', p], ['rtstruct', r]] as const) {
    const t = byRoi(o);
    assert.deepEqual(Object.keys(t).sort(), ['Lung_L', 'Lung_R'], name);
    for (const roi of ['Lung_L', 'Lung_R']) {
      // the classical segmenter's gate is Dice ≥ 0.95 on this scan; a swapped side would be ≈ 0
      assert.ok(t[roi].dice > 0.95 && t[roi].dice <= 1, `${name} ${roi} Dice ${t[roi].dice}`);
      assert.ok(Math.abs(t[roi].differenceMl) < 150, `${name} ${roi} difference ${t[roi].differenceMl} mL`);
      assert.ok(Math.abs(t[roi].volumeMl - o.volumesMl[roi]) < 0.1, `${name} ${roi}: our volume is the one reported`);
      assert.ok(Math.abs(t[roi].differenceMl - (t[roi].volumeMl - t[roi].truthVolumeMl)) < 1e-6);
    }
    assert.deepEqual(o.truth?.notCompared, []);
  }
  // Splitting the one-label mask by side gives the per-side masks (to 1 %); README: ≈ 4.55 L in all.
  for (const roi of ['Lung_L', 'Lung_R']) {
    assert.ok(Math.abs(byRoi(s)[roi].truthVolumeMl - byRoi(p)[roi].truthVolumeMl) < 0.01 * byRoi(p)[roi].truthVolumeMl, roi);
    // plastimatch's RTSTRUCT of the same masks: README Dice 0.998/0.999, so volumes agree to 2 %
    assert.ok(Math.abs(byRoi(r)[roi].truthVolumeMl - byRoi(p)[roi].truthVolumeMl) < 0.02 * byRoi(p)[roi].truthVolumeMl, roi);
  }
  assert.ok(Math.abs(byRoi(p).Lung_L.truthVolumeMl + byRoi(p).Lung_R.truthVolumeMl - 4550) < 100);
  assert.match(s.truth!.notes[0], /split at x = /);

  // people's output: one line per structure, volumes to 0.1 mL
  const text = await segment([CIP64_DICOM_DIR, '--truth', join(CIP64_DIR, 'lung_mask.nii.gz')]);
  assert.equal(text.code, 0);
  const line = text.out.find((l) => /Lung_L\s+Dice/.test(l));
  assert.match(line ?? '', /Dice 0\.9\d\d {2}volume \d+\.\d vs \d+\.\d mL \([+-]?\d+(\.\d)? mL\)/);
  // a reference that is not there is the user's input: exit 2
  assert.equal((await segment([CIP64_DICOM_DIR, '--truth', join(CIP64_DIR, 'no-such.nii.gz')])).code, 2);
});

test('segment --series picks one series of a folder holding two; without it a warning names both; a wrong one exits 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-series-'));
  try {
    // series A: the 79 CIP slices; series B: 40 of them re-filed under another Series and SOP Instance UID (dcmtk)
    await cp(CIP64_DICOM_DIR, join(dir, 'a'), { recursive: true });
    await cp(CIP64_DICOM_DIR, join(dir, 'b'), { recursive: true, filter: (src) => !/IMG00(4[1-9]|[5-7]\d)\.dcm$/.test(src) });
    const uidB = '1.2.826.0.1.3680043.8.498.1100000000001';
    const files = (await readdir(join(dir, 'b'))).map((f) => join(dir, 'b', f));
    assert.equal(files.length, 40);
    execFileSync('dcmodify', ['-nb', '-gin', '-m', `(0020,000e)=${uidB}`, ...files]);

    const plain = spawnSegment([dir, '--json']);
    assert.equal(plain.code, 0, plain.err);
    const a = JSON.parse(plain.out) as Out;
    assert.equal(a.dims[2], 79, 'the series with more slices by default');
    assert.deepEqual(a.otherSeries.map((o) => [o.seriesInstanceUid, o.slices]), [[uidB, 40]]);
    assert.match(plain.err, /warning: the input holds 2 image series; using [\d.]+ \(79 slices\)/);
    assert.ok(plain.err.includes(uidB) && plain.err.includes('--series'), plain.err);

    const picked = spawnSegment([dir, '--json', '--series', uidB]);
    assert.equal(picked.code, 0, picked.err);
    const b = JSON.parse(picked.out) as Out;
    assert.equal(b.seriesInstanceUid, uidB);
    assert.equal(b.dims[2], 40);
    assert.doesNotMatch(picked.err, /warning/);

    const wrong = spawnSegment([dir, '--series', '1.2.3.4.5']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /SERIES_NOT_FOUND: series 1\.2\.3\.4\.5 is not in the input; it holds .*1\.2\.826\.0\.1\.3680043\.8\.498\.1100000000001/);
    assert.equal(wrong.out, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
