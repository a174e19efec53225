import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../main.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-cli-phantom-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(argv, { out: (l) => lines.push(l), env: {} });
  return { code, lines };
}

test('dfa phantom writes DICOM + truth, and dfa inspect selects that series', async () => {
  const out = join(dir, 'p');
  const made = await cli('phantom', '--out', out, '--size', '48', '--slices', '12', '--patient-id', 'CLI-1', '--json');
  assert.equal(made.code, 0);
  const info = JSON.parse(made.lines[0]) as { files: number; seriesInstanceUid: string; volumesMl: Record<string, number> };
  assert.equal(info.files, 12);
  assert.ok(info.volumesMl.Lung_L > 0 && info.volumesMl.Lung_R > 0);
  const summary = JSON.parse(await readFile(join(out, 'phantom.json'), 'utf8')) as { truthFiles: Record<string, string> };
  assert.equal(summary.truthFiles.Lung_L, 'truth/Lung_L.nii.gz');

  const mr = join(dir, 'mr');
  assert.equal((await cli('phantom', '--out', mr, '--size', '32', '--slices', '4', '--modality', 'MR', '--no-truth')).code, 0);

  const seen = await cli('inspect', join(out, 'dicom'), join(mr, 'dicom'), '--json');
  assert.equal(seen.code, 0);
  const r = JSON.parse(seen.lines[0]) as { selected: string; skipped: { reason: string }[]; volume: { dims: number[] } };
  assert.equal(r.selected, info.seriesInstanceUid);
  assert.deepEqual(r.volume.dims, [48, 48, 12]);
  assert.match(r.skipped[0].reason, /modality MR is not CT/);

  const text = await cli('inspect', join(out, 'dicom'));
  assert.ok(text.lines.some((l) => l.includes('SELECTED')));
  assert.equal((await cli('inspect', join(mr, 'dicom'))).code, 1, 'no CT series → exit 1');
});

test('dfa phantom without --out is a usage error (exit 2)', async () => {
  assert.equal((await cli('phantom')).code, 2);
  assert.equal((await cli('phantom', '--out', join(dir, 'bad'), '--position', 'XYZ')).code, 2);
});
