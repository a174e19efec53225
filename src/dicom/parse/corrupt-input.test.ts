import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDfaError } from '../../core/errors.ts';
import { CIP64_DICOM_DIR, ODD_DICOM_DIR } from '../../../test/support/testdata.ts';
import { decodeFrames } from './pixels.ts';
import { parseDicom, readDicomFile, readDicomHeader } from './read-part10.ts';

/** Parse + decode; anything thrown must be a DfaError that names the source. */
async function outcome(buf: Uint8Array, source: string): Promise<'ok' | string> {
  try {
    await decodeFrames(parseDicom(buf, source));
    return 'ok';
  } catch (e) {
    assert.ok(isDfaError(e), `${source}: untyped ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.ok(e.message.includes(source), `${source}: message does not name the source: ${e.message}`);
    return e.code;
  }
}

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const SAMPLES = [
  join(CIP64_DICOM_DIR, 'IMG0001.dcm'), // implicit VR
  join(ODD_DICOM_DIR, 'pydicom_test_files', 'CT_small.dcm'), // explicit VR
  join(ODD_DICOM_DIR, 'pydicom_test_files', 'MR_small_RLE.dcm'), // encapsulated
  join(ODD_DICOM_DIR, 'pydicom_test_files', 'MR_small_jp2klossless.dcm'),
];

test('truncating a file anywhere gives a typed error (or, in the padding, a good image) — never zeros', async () => {
  for (const f of SAMPLES) {
    const buf = new Uint8Array(readFileSync(f));
    for (let cut = 0; cut < buf.length; cut += Math.max(1, Math.floor(buf.length / 97))) {
      const r = await outcome(buf.subarray(0, cut), `${f}@${cut}`);
      assert.notEqual(r, 'ok', `${f} cut at ${cut} of ${buf.length} bytes was accepted`);
    }
  }
});

test('random byte corruption never escapes as an untyped exception', async () => {
  const rand = rng(12345);
  for (const f of SAMPLES) {
    const orig = new Uint8Array(readFileSync(f));
    for (let n = 0; n < 60; n++) {
      const buf = orig.slice();
      const flips = 1 + Math.floor(rand() * 8);
      // Corrupt the header region mostly: that is where parsers go wrong.
      for (let i = 0; i < flips; i++) buf[Math.floor(rand() * Math.min(buf.length, 2048))] = Math.floor(rand() * 256);
      await outcome(buf, `${f}#${n}`);
    }
  }
});

test('garbage and empty input are "not a DICOM file"', async () => {
  assert.equal(await outcome(new Uint8Array(0), 'empty'), 'DICOM_PARSE_FAILED');
  const junk = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
  assert.equal(await outcome(junk, 'junk'), 'DICOM_PARSE_FAILED');
  assert.equal(await outcome(new TextEncoder().encode('%PDF-1.7 not dicom at all'.repeat(20)), 'pdf'), 'DICOM_PARSE_FAILED');
});

test('readDicomHeader: same attributes from the first 64 KB, pixels re-read (and checked) on decode', async () => {
  const f = join(ODD_DICOM_DIR, 'cip_copdgene_fullres_slice001.dcm');
  const full = await readDicomFile(f);
  const head = await readDicomHeader(f);
  assert.equal(head.pixelDataOmitted, true);
  assert.equal(head.dataset.PixelData, undefined);
  const { PixelData: _p, ...attrs } = full.dataset;
  assert.deepEqual(head.dataset, attrs);
  const a = await decodeFrames(full);
  const b = await decodeFrames(head);
  assert.deepEqual(b.frames[0], a.frames[0]);
  // A truncated file is caught from the file size alone, before any pixel is needed.
  const dir = await mkdtemp(join(tmpdir(), 'dfa-header-'));
  try {
    const cut = join(dir, 'cut.dcm');
    const bytes = readFileSync(f);
    await writeFile(cut, bytes.subarray(0, bytes.length - 1000));
    await assert.rejects(readDicomHeader(cut), (e) => isDfaError(e, 'DICOM_PARSE_FAILED') && /truncated/.test(e.message) && e.message.includes(cut));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
