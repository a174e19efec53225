import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ODD_DICOM_DIR } from '../../../test/support/testdata.ts';
import type { OddResult } from './odd-dicom.test-worker.ts';

/**
 * Every file of ../shared/testdata/odd-dicom either decodes or fails with a DfaError naming it —
 * never another exception, never a hang (each file runs in a worker that is killed after a timeout).
 */
const PER_FILE_TIMEOUT_MS = 30_000;
const TYPED_CODES = new Set(['DICOM_PARSE_FAILED', 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX', 'DICOM_NO_PIXEL_DATA']);

/** Files pydicom decodes that we refuse, each with the reason (asserted to fail the typed way). */
const KNOWN_REFUSALS: Record<string, string> = {
  // Element (4544,4952) overruns the file: dcmdump refuses it too; we call it truncated.
  'pydicom_test_files/SC_rgb_jpeg.dcm': 'DICOM_PARSE_FAILED',
};

/** Same image in different encodings (pydicom's set): decoded stored values must be identical. */
const IDENTICAL: [string, string][] = [
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_RLE.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_bigendian.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_expb.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_implicit.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_jp2klossless.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_jpeg_ls_lossless.dcm'],
  ['pydicom_test_files/MR_small.dcm', 'pydicom_test_files/MR_small_padded.dcm'],
  ['pydicom_data_store/emri_small.dcm', 'pydicom_data_store/emri_small_RLE.dcm'],
  ['pydicom_data_store/emri_small.dcm', 'pydicom_data_store/emri_small_big_endian.dcm'],
  ['pydicom_data_store/emri_small.dcm', 'pydicom_data_store/emri_small_jpeg_2k_lossless.dcm'],
  ['pydicom_data_store/emri_small.dcm', 'pydicom_data_store/emri_small_jpeg_ls_lossless.dcm'],
  ['pydicom_data_store/693_UNCR.dcm', 'pydicom_data_store/693_J2KR.dcm'],
  ['pydicom_data_store/693_UNCI.dcm', 'pydicom_test_files/693_J2KI.dcm'],
  ['pydicom_data_store/MR2_UNCR.dcm', 'pydicom_data_store/MR2_J2KR.dcm'],
  ['pydicom_data_store/US1_UNCR.dcm', 'pydicom_data_store/US1_J2KR.dcm'],
  ['pydicom_data_store/JPEG2000_UNC.dcm', 'pydicom_test_files/JPEG2000.dcm'],
  ['pydicom_data_store/OBXXXX1A.dcm', 'pydicom_data_store/OBXXXX1A_rle.dcm'],
  ['pydicom_data_store/OBXXXX1A_2frame.dcm', 'pydicom_data_store/OBXXXX1A_rle_2frame.dcm'],
  ['pydicom_data_store/SC_rgb.dcm', 'pydicom_data_store/SC_rgb_expb.dcm'],
  ['pydicom_data_store/SC_rgb.dcm', 'pydicom_test_files/SC_rgb_rle.dcm'],
  ['pydicom_data_store/SC_rgb_16bit_2frame.dcm', 'pydicom_test_files/SC_rgb_rle_16bit_2frame.dcm'],
  ['pydicom_data_store/SC_rgb_32bit_2frame.dcm', 'pydicom_test_files/SC_rgb_rle_32bit_2frame.dcm'],
  ['pydicom_data_store/SC_rgb_32bit_2frame.dcm', 'pydicom_data_store/SC_rgb_expb_32bit_2frame.dcm'],
  ['pydicom_data_store/liver.dcm', 'pydicom_data_store/liver_expb.dcm'],
  ['pydicom_data_store/liver.dcm', 'pydicom_data_store/liver_deflate.dcm'],
  ['pydicom_data_store/liver.dcm', 'pydicom_data_store/liver_rle.dcm'],
  ['pydicom_test_files/rtdose.dcm', 'pydicom_test_files/rtdose_expb.dcm'],
  ['pydicom_test_files/rtdose.dcm', 'pydicom_test_files/rtdose_rle.dcm'],
  ['pydicom_data_store/gdcm-US-ALOKA-16.dcm', 'pydicom_data_store/gdcm-US-ALOKA-16_big.dcm'],
  ['pydicom_data_store/SC_ybr_full_uncompressed.dcm', 'pydicom_test_files/SC_ybr_full_422_uncompressed.dcm'],
];

interface Row {
  path: string;
  rows: number;
  cols: number;
  frames: number;
  pixelDecode: string;
}

const rows: Row[] = readFileSync(join(ODD_DICOM_DIR, 'catalogue.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map((c) => ({ path: c[0], rows: Number(c[5]), cols: Number(c[6]), frames: Number(c[7]) || 1, pixelDecode: c[10] ?? '' }));

let worker: Worker | undefined;
const getWorker = () => (worker ??= new Worker(new URL('./odd-dicom.test-worker.ts', import.meta.url)));
after(async () => {
  await worker?.terminate();
});

function run(file: string): Promise<OddResult | 'timeout'> {
  const w = getWorker();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      w.off('message', onMessage);
      w.off('error', onError);
      worker = undefined;
      void w.terminate();
      resolve('timeout');
    }, PER_FILE_TIMEOUT_MS);
    const onMessage = (r: OddResult) => {
      clearTimeout(timer);
      w.off('error', onError);
      resolve(r);
    };
    const onError = (e: unknown) => {
      clearTimeout(timer);
      worker = undefined;
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(file);
  });
}

const results = new Map<string, OddResult>();

test(`every odd-dicom file (${rows.length}) decodes or fails with a typed error naming it`, async (t) => {
  for (const row of rows) {
    await t.test(row.path, async () => {
      const r = await run(join(ODD_DICOM_DIR, row.path));
      assert.notEqual(r, 'timeout', `${row.path}: no answer within ${PER_FILE_TIMEOUT_MS} ms (hang)`);
      if (r === 'timeout') return;
      results.set(row.path, r);
      assert.notEqual(r.outcome, 'other-error', `${row.path}: untyped failure ${r.message}`);
      if (r.outcome === 'dfa-error') {
        assert.ok(TYPED_CODES.has(r.code!), `${row.path}: unexpected code ${r.code}`);
        assert.ok(r.message!.includes(row.path), `error must name the file: ${r.message}`);
      }
      if (KNOWN_REFUSALS[row.path]) {
        assert.equal(r.code, KNOWN_REFUSALS[row.path], `${row.path}: ${r.message}`);
      } else if (row.pixelDecode.startsWith('ok')) {
        assert.equal(r.outcome, 'decoded', `${row.path}: pydicom decodes it; we said ${r.code}: ${r.message}`);
        assert.equal(r.rows, row.rows);
        assert.equal(r.columns, row.cols);
        assert.equal(r.frames, row.frames);
      }
    });
  }
});

test('the same image in different transfer syntaxes decodes to identical stored values', () => {
  for (const [a, b] of IDENTICAL) {
    const ra = results.get(a);
    const rb = results.get(b);
    assert.equal(ra?.outcome, 'decoded', `${a} did not decode`);
    assert.equal(rb?.outcome, 'decoded', `${b} did not decode`);
    assert.equal(rb!.sha256, ra!.sha256, `${b} differs from ${a}`);
  }
});

test('a truncated file is reported as truncated, not padded with zeros', () => {
  const r = results.get('pydicom_test_files/MR_truncated.dcm');
  assert.equal(r?.code, 'DICOM_PARSE_FAILED');
  assert.match(r!.message!, /truncated/);
});
