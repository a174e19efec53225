/**
 * Fallback on partial sub-operations: a PACS whose C-GET reports a failed sub-operation (0xB000)
 * makes the Pacs try C-MOVE next and say why. The PACS here is our own DICOM server with scripted
 * handlers (unit-testing our fallback logic over real associations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { splitPart10 } from './dimse/dataset.ts';
import { DimseClient } from './dimse/scu.ts';
import { createPacs } from './pacs.ts';
import { DicomScp } from './scp/receiver.ts';
import { DicomServer } from './scp/server.ts';

test('C-GET with a failed sub-operation (0xB000) falls back to C-MOVE, and the attempt says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-pacs-fallback-'));
  const log = memoryLogger('info');
  const files = ['IMG0001.dcm', 'IMG0002.dcm'].map((f) => join(CIP64_DICOM_DIR, f));
  const p10 = await Promise.all(files.map(async (f) => splitPart10(await readFile(f), f)));
  const study = '1.2.826.0.1.3680043.2.1125.1.35591276374847523812691041989786456';
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['SCRIPTED'], sink: { dir: join(dir, 'inbox') }, log }).start();
  const pacsNode = await new DicomServer({
    aet: 'SCRIPTED', port: 0, log,
    handlers: {
      // C-GET: sends the first instance, reports the second as failed.
      onGet: async (_q, _ctx, send) => {
        const s = await send(p10[0]);
        return { status: 0xb000, completed: s === 0 ? 1 : 0, failed: 1, warning: 0, remaining: 0 };
      },
      // C-MOVE: pushes both to the destination (our SCP) on a new association, as a PACS does.
      onMove: async (_q, dest, ctx) => {
        assert.equal(dest, 'DFA');
        const r = await new DimseClient({ host: scp.host, port: scp.port, calledAet: dest, callingAet: 'SCRIPTED' }).store(files, { moveOriginator: { aet: ctx.callingAet, messageId: ctx.messageId } });
        return { status: 0, completed: r.filter((x) => x.status.kind === 'success').length, failed: 0, warning: 0, remaining: 0 };
      },
    },
  }).start();
  const pacs = createPacs({ dimse: { host: pacsNode.host, port: pacsNode.port, calledAet: 'SCRIPTED', callingAet: 'DFA' }, retrieve: ['c-get', 'c-move'], store: 'c-store', moveScp: scp, log });
  try {
    const r = await pacs.retrieve({ studyInstanceUid: study }, join(dir, 'out'));
    assert.equal(r.method, 'c-move');
    assert.deepEqual(r.attempts.map((a) => [a.method, a.ok]), [['c-get', false], ['c-move', true]]);
    assert.match(r.attempts[0].reason ?? '', /C-GET partial: 1 completed, 1 failed/);
    assert.equal(r.instances.length, 2);
    assert.equal((await readdir(join(dir, 'out'))).length, 2);
    assert.ok(log.lines.some((l) => /retrieve by c-get failed, trying c-move: C-GET partial/.test(l)));
    assert.equal(scp.inbox.length, 0); // routed to the retrieval, not the inbox
  } finally {
    await pacs.close();
    await pacsNode.close();
    await scp.close();
    await rm(dir, { recursive: true, force: true });
  }
});
