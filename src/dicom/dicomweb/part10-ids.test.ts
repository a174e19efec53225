/**
 * The fast UID scanner must agree with dcmjs on every file of the odd-dicom corpus and the CIP64
 * series (implicit/explicit VR, sequences of undefined length, compressed pixel data, big endian
 * and deflate — those two it leaves to dcmjs), and must decline rather than guess.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import { CIP64_DICOM_DIR, ODD_DICOM_DIR } from '../../../test/support/testdata.ts';
import { part10Ids, part10IdsByDcmjs, part10IdsOfChunks, scanPart10Ids } from './part10-ids.ts';

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('fast scanner agrees with dcmjs on every readable file of odd-dicom and CIP64', async () => {
  let compared = 0;
  let declined = 0;
  for (const f of [...(await files(ODD_DICOM_DIR)), ...(await files(CIP64_DICOM_DIR))]) {
    const b = await readFile(f);
    let reference;
    try {
      reference = part10IdsByDcmjs(b);
    } catch {
      continue; // not a Part 10 file dcmjs can read: nothing to compare
    }
    const fast = scanPart10Ids(b);
    if (!fast) {
      declined++;
      continue;
    }
    compared++;
    // dcmjs drops characters that cannot be in a UID (bad_sequence.dcm has hex "UIDs"); we keep
    // the raw value, so compare with those characters removed.
    const uidChars = (ids: Record<string, string>) => Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, v.replace(/[^0-9.]/g, '')]));
    assert.deepEqual(uidChars({ ...fast }), uidChars({ ...reference }), f);
    assert.deepEqual(part10Ids(b), fast, f);
  }
  assert.ok(compared > 100, `compared ${compared} files (declined ${declined})`);
});

test('chunked input gives the same answer; not DICOM is a typed error', async () => {
  const b = await readFile(join(CIP64_DICOM_DIR, 'IMG0001.dcm'));
  const chunks = [b.subarray(0, 100), b.subarray(100, 1000), b.subarray(1000)];
  assert.deepEqual(part10IdsOfChunks(chunks, b.length), part10Ids(b));
  assert.throws(() => part10Ids(Buffer.from('hello')), (e) => isDfaError(e, 'DICOM_PARSE_FAILED'));
});
