/**
 * C-STORE responses tell the truth about the write: an instance we could not write is answered
 * 0xA700 (PS3.4 B.2.3), never as stored, on a C-GET association and at our C-MOVE destination; the
 * retrieval reports why. Also: data set buffers reused between instances (transientDatasets) leave
 * every written file byte-identical to what was sent, for instances of different sizes in a row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { CIP64_DICOM_DIR, ODD_DICOM_DIR } from '../../../test/support/testdata.ts';
import { splitPart10, type Part10 } from '../dimse/dataset.ts';
import { DimseClient } from '../dimse/scu.ts';
import { createPacs } from '../pacs.ts';
import { InstanceFiles, fileNameFor } from './instance-file.ts';
import { DicomScp } from './receiver.ts';
import { DicomServer } from './server.ts';

const load = async (f: string): Promise<Part10> => splitPart10(await readFile(f), f);

test('C-GET: an instance that cannot be written is answered 0xA700, the others arrive byte-identical, and the retrieval says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-store-status-'));
  const log = memoryLogger('error');
  // small, large (grows the receive buffer), small (reuses it, blocked), small
  const p10 = await Promise.all([join(CIP64_DICOM_DIR, 'IMG0001.dcm'), join(ODD_DICOM_DIR, 'cip_copdgene_fullres_slice001.dcm'), join(CIP64_DICOM_DIR, 'IMG0002.dcm'), join(CIP64_DICOM_DIR, 'IMG0003.dcm')].map(load));
  const out = join(dir, 'out');
  const blocked = p10[2];
  await mkdir(join(out, fileNameFor(blocked.sopInstanceUid)), { recursive: true }); // a directory where the file must go: the rename fails
  const statuses: number[] = [];
  const node = await new DicomServer({
    aet: 'SCRIPTED', port: 0, log,
    handlers: {
      onGet: async (_q, _ctx, send) => {
        for (const p of p10) statuses.push(await send(p));
        const failed = statuses.filter((s) => s !== 0).length;
        return { status: failed ? 0xb000 : 0, completed: statuses.length - failed, failed, warning: 0, remaining: 0 };
      },
    },
  }).start();
  const pacs = createPacs({ dimse: { host: node.host, port: node.port, calledAet: 'SCRIPTED', callingAet: 'DFA' }, retrieve: ['c-get'], store: 'c-store', log });
  try {
    await assert.rejects(pacs.retrieve({ studyInstanceUid: '1.2.3' }, out), (e: unknown) => isDfaError(e, 'RETRIEVE_FAILED') && /C-GET: could not write a received instance/.test(e.message));
    assert.deepEqual(statuses, [0, 0, 0xa700, 0]);
    const names = await readdir(out);
    assert.ok(!names.some((n) => /tmp/.test(n)), names.join(' ')); // no temporary left behind
    for (const p of [p10[0], p10[1], p10[3]]) {
      const got = splitPart10(await readFile(join(out, fileNameFor(p.sopInstanceUid))));
      assert.equal(got.sopInstanceUid, p.sopInstanceUid);
      assert.ok(got.dataset.equals(p.dataset), `${p.sopInstanceUid} differs from what was sent`);
    }
  } finally {
    await pacs.close();
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('C-MOVE: our SCP answers 0xA700 for an instance it cannot write, and the retrieval says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-store-status-'));
  const log = memoryLogger('error');
  const files = ['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm'].map((f) => join(CIP64_DICOM_DIR, f));
  const p10 = await Promise.all(files.map(load));
  const study = '1.2.826.0.1.3680043.2.1125.1.35591276374847523812691041989786456';
  const out = join(dir, 'out');
  await mkdir(join(out, fileNameFor(p10[1].sopInstanceUid)), { recursive: true });
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['SCRIPTED'], sink: { dir: join(dir, 'inbox') }, log }).start();
  let sent: number[] = [];
  const node = await new DicomServer({
    aet: 'SCRIPTED', port: 0, log,
    handlers: {
      onMove: async (_q, dest, ctx) => {
        const r = await new DimseClient({ host: scp.host, port: scp.port, calledAet: dest, callingAet: 'SCRIPTED' }).store(files, { moveOriginator: { aet: ctx.callingAet, messageId: ctx.messageId } });
        sent = r.map((x) => x.status.status);
        const failed = sent.filter((s) => s !== 0).length;
        return { status: failed ? 0xb000 : 0, completed: sent.length - failed, failed, warning: 0, remaining: 0 };
      },
    },
  }).start();
  const pacs = createPacs({ dimse: { host: node.host, port: node.port, calledAet: 'SCRIPTED', callingAet: 'DFA' }, retrieve: ['c-move'], store: 'c-store', moveScp: scp, log });
  try {
    await assert.rejects(pacs.retrieve({ studyInstanceUid: study }, out), (e: unknown) => isDfaError(e, 'RETRIEVE_FAILED') && /C-MOVE: could not write a received instance/.test(e.message));
    assert.deepEqual(sent, [0, 0xa700, 0]);
    assert.ok(!(await readdir(out)).some((n) => /tmp/.test(n)));
    for (const p of [p10[0], p10[2]]) assert.ok(splitPart10(await readFile(join(out, fileNameFor(p.sopInstanceUid)))).dataset.equals(p.dataset));
    assert.equal(scp.inbox.length, 0);
  } finally {
    await pacs.close();
    await node.close();
    await scp.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('InstanceFiles: temporary files made ahead become the instances; none is left after dispose', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-instance-files-'));
  try {
    const p10 = await Promise.all(['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm'].map((f) => load(join(CIP64_DICOM_DIR, f))));
    const files = new InstanceFiles(dir);
    files.prepare();
    assert.equal((await readdir(dir)).length, 1); // the one made ahead
    for (const p of p10) {
      await files.write({ callingAet: 'PACS', sopClassUid: p.sopClassUid, sopInstanceUid: p.sopInstanceUid, transferSyntax: p.transferSyntax, dataset: p.dataset });
      await new Promise((r) => setImmediate(r)); // the next one is made after this turn
    }
    files.dispose();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual((await readdir(dir)).sort(), p10.map((p) => fileNameFor(p.sopInstanceUid)).sort());
    for (const p of p10) assert.ok(splitPart10(await readFile(join(dir, fileNameFor(p.sopInstanceUid)))).dataset.equals(p.dataset));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
