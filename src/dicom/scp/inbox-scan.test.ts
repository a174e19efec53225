/** The inbox read back at start-up, and the Part 10 head reader the C-STORE sender uses. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import { readPart10, readPart10Head } from '../dimse/part10-head.ts';
import { scanInbox } from './inbox-scan.ts';
import { fileNameFor, writeInstanceFile } from './instance-file.ts';

test('a file head gives the SOP class, instance, transfer syntax and sender; the whole file only when asked', async () => {
  const f = join(CIP64_DICOM_DIR, 'IMG0001.dcm');
  const whole = splitPart10(await readFile(f));
  const head = await readPart10Head(f);
  assert.equal(head.complete, true, 'a 64x64 slice fits in the head');
  const part = await readPart10Head(f, 1024);
  assert.equal(part.complete, false);
  assert.ok(part.dataset.length < whole.dataset.length);
  for (const h of [head, part]) assert.deepEqual([h.sopClassUid, h.sopInstanceUid, h.transferSyntax], [whole.sopClassUid, whole.sopInstanceUid, whole.transferSyntax]);
  assert.ok((await readPart10(f)).dataset.equals(whole.dataset));
});

test('inbox scan: every instance written before its C-STORE response is found with its sender; interrupted writes are removed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-inbox-'));
  try {
    const files = (await readdir(CIP64_DICOM_DIR)).filter((n) => n.endsWith('.dcm')).slice(0, 3).map((n) => join(CIP64_DICOM_DIR, n));
    const written = [];
    for (const f of files) {
      const p = splitPart10(await readFile(f));
      const i = { callingAet: 'CT1', sopClassUid: p.sopClassUid, sopInstanceUid: p.sopInstanceUid, transferSyntax: p.transferSyntax, dataset: p.dataset };
      written.push(await writeInstanceFile(join(dir, 'study', 'series', fileNameFor(i.sopInstanceUid)), i));
    }
    await writeFile(join(dir, 'study', 'series', '1.2.3.dcm.tmp-999-abc'), 'half a file');
    await mkdir(join(dir, 'junk'), { recursive: true });
    await writeFile(join(dir, 'junk', 'x.dcm'), 'not DICOM');
    const scan = await scanInbox(dir);
    assert.equal(scan.removedPartial, 1);
    assert.deepEqual(scan.unreadable.map((u) => u.path), [join(dir, 'junk', 'x.dcm')]);
    assert.deepEqual(
      scan.entries.map((e) => ({ ...e.instance, aet: e.callingAet })).sort((a, b) => a.path.localeCompare(b.path)),
      written.map((w) => ({ ...w, aet: 'CT1' })).sort((a, b) => a.path.localeCompare(b.path)),
    );
    assert.deepEqual((await readdir(join(dir, 'study', 'series'))).filter((n) => n.includes('.tmp')), []);
    assert.deepEqual((await scanInbox(join(dir, 'absent'))).entries, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
