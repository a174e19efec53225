/**
 * Our SCP against peers that break the protocol (issue 10 §1): each malformed PDU of the corpus
 * aborts that association only, is logged once, the peer is disconnected (the connection is gone
 * on our side, not half-closed), and a real dcmtk echoscu succeeds right after. Also the limit on
 * concurrent associations (DFA_SCP_MAX_ASSOCIATIONS): over it, A-ASSOCIATE-RJ transient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryLogger } from '../../core/log.ts';
import { associateRq, malformedCorpus } from '../../../test/support/dimse-fuzz.ts';
import { associatedPeer, rawPeer } from '../../../test/support/raw-dicom-peer.ts';
import { PDU } from '../dimse/pdu.ts';
import { DicomScp } from './receiver.ts';

const run = promisify(execFile);
const env = { ...process.env, TCP_NODELAY: '1' };

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

test('each malformed PDU aborts its association only: logged once, peer disconnected, echoscu still answered', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-hostile-'));
  const log = memoryLogger('info');
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['PACS'], sink: { dir }, log, timeouts: { associationMs: 3000, idleMs: 5000 } }).start();
  try {
    for (const c of malformedCorpus('DFA', 'PACS')) {
      const before = log.lines.length;
      const peer = c.afterAssociation ? await associatedPeer(scp.port, 'DFA', 'PACS') : await rawPeer(scp.port);
      peer.socket.write(c.bytes);
      assert.ok(await peer.closedWithin(3000), `${c.name}: the SCP did not disconnect the peer`);
      assert.ok(await until(() => scp.server.connections === 0, 2000), `${c.name}: connection still open on our side`);
      const got = peer.received();
      // Whatever we answered ends in A-ABORT (PS3.8 9.3.8) or A-ASSOCIATE-RJ (a refused request).
      const last = c.afterAssociation ? got.subarray(got.readUInt32BE(2) + 6) : got;
      if (last.length > 0) assert.ok([PDU.ABORT, PDU.ASSOCIATE_RJ].includes(last[0] as 3 | 7), `${c.name}: answered PDU type ${last[0]}`);
      const lines = log.lines.slice(before).filter((l) => /aborted association|rejected association/.test(l));
      assert.equal(lines.length, c.name.startsWith('A-ABORT') ? 0 : 1, `${c.name}:\n${log.lines.slice(before).join('\n')}`);
      const { stderr } = await run('echoscu', ['-v', '-aet', 'PACS', '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env });
      assert.match(stderr, /Received Echo Response \(Success\)/, c.name);
    }
    assert.ok(scp.server.protocolAborts >= 14, String(scp.server.protocolAborts));
  } finally {
    await scp.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('over DFA_SCP_MAX_ASSOCIATIONS a peer gets A-ASSOCIATE-RJ (transient, local limit exceeded) and is disconnected', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-maxassoc-'));
  const log = memoryLogger('info');
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['PACS'], sink: { dir }, log, maxAssociations: 2 }).start();
  try {
    const held = [await associatedPeer(scp.port, 'DFA', 'PACS'), await associatedPeer(scp.port, 'DFA', 'PACS')];
    await assert.rejects(run('echoscu', ['-aet', 'PACS', '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env }), /Rejected|rejected/);
    assert.ok(log.lines.some((l) => /2 associations already open \(DFA_SCP_MAX_ASSOCIATIONS\)/.test(l)), log.lines.join('\n'));
    const third = await rawPeer(scp.port);
    third.socket.write(associateRq('DFA', 'PACS'));
    assert.equal(await third.nextPduType(3000), PDU.ASSOCIATE_RJ);
    assert.deepEqual([...third.received().subarray(7, 10)], [2, 3, 2]); // PS3.8 9.3.4: transient, provider (presentation), local limit exceeded
    assert.ok(await third.closedWithin(3000));
    for (const h of held) h.destroy();
    assert.ok(await until(() => scp.server.connections === 0, 2000));
    await run('echoscu', ['-aet', 'PACS', '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env });
  } finally {
    await scp.close();
    await rm(dir, { recursive: true, force: true });
  }
});
