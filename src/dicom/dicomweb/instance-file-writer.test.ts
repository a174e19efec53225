import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { InstanceFileWriter } from './instance-file-writer.ts';
import { part10Ids } from './part10-ids.ts';

async function twoInstances(): Promise<Buffer[]> {
  const names = (await readdir(CIP64_DICOM_DIR)).filter((n) => !n.startsWith('.')).sort().slice(0, 2);
  return Promise.all(names.map((n) => readFile(join(CIP64_DICOM_DIR, n))));
}

/** Feeds each file as a part, in pieces of `piece` bytes, the way the multipart parser does. */
function feed(w: InstanceFileWriter, files: Buffer[], piece: number): void {
  for (const f of files) {
    w.partStart();
    for (let o = 0; o < f.length; o += piece) w.partBody(f.subarray(o, o + piece));
    w.partEnd(f.length);
  }
}

test('instance writer: each part becomes <SOPInstanceUID>.dcm, byte-identical, no temp files left', async () => {
  const files = await twoInstances();
  for (const piece of [1000, 64 * 1024, 1 << 30]) {
    const dir = await mkdtemp(join(tmpdir(), 'dfa-writer-'));
    try {
      const w = new InstanceFileWriter(dir);
      feed(w, files, piece);
      assert.equal(w.written.length, 2);
      for (const [i, f] of files.entries()) {
        const ids = part10Ids(f);
        assert.equal(w.written[i].path, join(dir, `${ids.sopInstanceUid}.dcm`));
        assert.equal(w.written[i].seriesInstanceUid, ids.seriesInstanceUid);
        assert.deepEqual(await readFile(w.written[i].path), f, `piece ${piece}: file ${i} bytes`);
      }
      assert.deepEqual((await readdir(dir)).sort(), w.written.map((x) => x.path.slice(dir.length + 1)).sort());
      assert.equal(w.writeError, undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('instance writer: a directory that cannot be written is a recorded error; a part that is not DICOM is refused', async () => {
  const [f] = await twoInstances();
  const dir = await mkdtemp(join(tmpdir(), 'dfa-writer-'));
  try {
    const w = new InstanceFileWriter(join(dir, 'missing'));
    assert.throws(() => feed(w, [f], 64 * 1024), /ENOENT/);
    assert.match(String(w.writeError), /ENOENT/);
    const v = new InstanceFileWriter(dir);
    assert.throws(() => feed(v, [Buffer.from('not dicom')], 64), /DICM/);
    assert.equal(v.writeError, undefined);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
