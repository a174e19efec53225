import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { memoryLogger } from '../../core/log.ts';
import { CLASSICAL_LUNG_MANIFEST_PATH } from '../../ml/classical/manifest.ts';
import { readNifti } from '../../io/nifti.ts';
import { main } from '../main.ts';

async function dfa(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(['segment', ...args], { out: (s) => out.push(s), env, log: memoryLogger() });
  return { code, out };
}

test('dfa segment: real CT → volumes by ROI name, QC passed, NIfTI labels on the CT grid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-segment-'));
  try {
    const nifti = join(dir, 'lungs.nii.gz');
    const { code, out } = await dfa([CIP64_DICOM_DIR, '--json', '--nifti', nifti]);
    assert.equal(code, 0, out.join('\n'));
    const r = JSON.parse(out[0]) as { segmenter: string; volumesMl: Record<string, number>; qc: { ok: boolean }; reviewRequired: boolean; dims: number[] };
    assert.equal(r.segmenter, 'classical-lung');
    assert.equal(r.qc.ok, true);
    assert.equal(r.reviewRequired, false);
    // README of the test data: ≈ 4.55 L in total
    assert.ok(Math.abs(r.volumesMl.Lung_L + r.volumesMl.Lung_R - 4550) < 250, JSON.stringify(r.volumesMl));
    const n = await readNifti(nifti);
    assert.deepEqual(n.dims, r.dims);
    const counts = [0, 0, 0];
    for (const v of n.data) counts[v]++;
    assert.ok(counts[1] > 1000 && counts[2] > 1000);
    // text output names each ROI
    const text = await dfa([CIP64_DICOM_DIR]);
    assert.equal(text.code, 0);
    assert.ok(text.out.some((l) => l.includes('Lung_L')) && text.out.some((l) => l.includes('QC passed')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dfa segment: a result failing QC exits 1 (review); unknown model or no input exits 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-segment-'));
  try {
    // a classical model whose air threshold finds nothing: empty lungs fail QC
    const m = JSON.parse(await readFile(CLASSICAL_LUNG_MANIFEST_PATH, 'utf8')) as { name: string; params: Record<string, number> };
    m.name = 'blind';
    m.params.lungHu = -3000;
    await mkdir(join(dir, 'blind'));
    await writeFile(join(dir, 'blind', 'manifest.json'), JSON.stringify(m));
    const bad = await dfa([CIP64_DICOM_DIR, '--segmenter', 'blind', '--json'], { DFA_MODEL_DIR: dir });
    assert.equal(bad.code, 1);
    const r = JSON.parse(bad.out[0]) as { reviewRequired: boolean; qc: { ok: boolean } };
    assert.equal(r.reviewRequired, true);
    assert.equal(r.qc.ok, false);
    // fallback: the blind model first, then a working one from the same folder
    await mkdir(join(dir, 'classical-lung'));
    await writeFile(join(dir, 'classical-lung', 'manifest.json'), await readFile(CLASSICAL_LUNG_MANIFEST_PATH));
    const fb = await dfa([CIP64_DICOM_DIR, '--segmenter', 'blind', '--segmenter', 'classical', '--json'], { DFA_MODEL_DIR: dir });
    assert.equal(fb.code, 0);
    const f = JSON.parse(fb.out[0]) as { segmenter: string; fallbackReason: string };
    assert.equal(f.segmenter, 'classical-lung');
    assert.match(f.fallbackReason, /blind failed QC/);

    assert.equal((await dfa([CIP64_DICOM_DIR, '--segmenter', 'nope'], { DFA_MODEL_DIR: dir })).code, 2);
    assert.equal((await dfa([])).code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
