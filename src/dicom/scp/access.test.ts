/**
 * Who may talk to our SCP (issue 10 §3): DFA_SCP_ALLOWED_PEERS binds calling AE titles to source
 * hosts; an SCP bound off loopback with no allow-list refuses to start (exit 2, one line); an
 * instance joins a running C-MOVE only when it is that C-MOVE's sub-operation (Move Originator AE
 * and Message ID, from the PACS's AE); anything else goes to the inbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { associateRq } from '../../../test/support/dimse-fuzz.ts';
import { freePort } from '../../../test/support/ports.ts';
import { rawPeer } from '../../../test/support/raw-dicom-peer.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import { PDU } from '../dimse/pdu.ts';
import { DimseClient } from '../dimse/scu.ts';
import { placeOf } from './instance-file.ts';
import { parseAllowedPeers } from './peers.ts';
import { DicomScp } from './receiver.ts';

const run = promisify(execFile);
const env = { ...process.env, TCP_NODELAY: '1' };
const DFA = fileURLToPath(new URL('../../../bin/dfa.js', import.meta.url));

test('DFA_SCP_ALLOWED_PEERS: the allowed AE from its host is accepted; a wrong AE or the right AE from another host gets A-ASSOCIATE-RJ', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-peers-'));
  const log = memoryLogger('info');
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedPeers: parseAllowedPeers(['PACS@127.0.0.1', 'MODALITY@localhost']), sink: { dir }, log }).start();
  try {
    const echo = (aet: string) => run('echoscu', ['-v', '-aet', aet, '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env });
    assert.match((await echo('PACS')).stderr, /Echo Response \(Success\)/);
    assert.match((await echo('MODALITY')).stderr, /Echo Response \(Success\)/); // host name resolved at start
    await assert.rejects(echo('INTRUDER'), /Association Rejected/);
    assert.ok(log.lines.some((l) => /calling AE 'INTRUDER' from 127\.0\.0\.1 is not on DFA_SCP_ALLOWED_PEERS \[PACS@127\.0\.0\.1,MODALITY@localhost\]/.test(l)), log.lines.join('\n'));
    // The right AE title from another address (127.0.0.2 is loopback too, but not the one allowed).
    const other = await rawPeer(scp.port, { localAddress: '127.0.0.2' });
    other.socket.write(associateRq('DFA', 'PACS'));
    assert.equal(await other.nextPduType(3000), PDU.ASSOCIATE_RJ);
    assert.deepEqual([...other.received().subarray(7, 10)], [1, 1, 3]); // permanent, service user, calling AE not recognized
    assert.ok(await other.closedWithin(3000), 'rejected peer disconnected');
    assert.ok(log.lines.some((l) => /'PACS' from 127\.0\.0\.2 is not on DFA_SCP_ALLOWED_PEERS.*add 'PACS@127\.0\.0\.2'/.test(l)));
  } finally {
    await scp.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseAllowedPeers(['PACS']), (e) => isDfaError(e, 'CONFIG_INVALID') && /AET@host/.test((e as Error).message));
});

test('an SCP bound to a non-loopback address with no allow-list refuses to start: exit 2 and a one-line reason', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'dfa-scp-bind-'));
  try {
    const port = await freePort();
    const r = await run(process.execPath, [DFA, 'scp'], { env: { ...process.env, DFA_DATA_DIR: dataDir, DFA_SCP_HOST: '0.0.0.0', DFA_SCP_PORT: String(port), DFA_SCP_ALLOWED_PEERS: '' }, timeout: 60000 })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /not loopback, with no allow-list: set DFA_SCP_ALLOWED_PEERS/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('only the PACS C-MOVE sub-operations for our Message ID join a retrieval; other pushes of the same study go to the inbox', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-origin-'));
  const log = memoryLogger('info');
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['PACS', 'OTHER'], sink: { dir: join(root, 'inbox') }, log }).start();
  try {
    const files = ['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm', 'IMG0004.dcm', 'IMG0005.dcm'].map((f) => join(CIP64_DICOM_DIR, f));
    const p10 = splitPart10(await readFile(files[0]));
    const { studyInstanceUid } = placeOf(p10);
    const exp = scp.expect(studyInstanceUid, undefined, join(root, 'job'), { pacsAet: 'PACS' });
    const other = scp.expect('1.2.3.999', undefined, join(root, 'job2'), { pacsAet: 'PACS' });
    assert.notEqual(exp.moveMessageId, other.moveMessageId);
    const push = (callingAet: string, file: string, moveOriginator?: { aet: string; messageId: number }) =>
      new DimseClient({ host: scp.host, port: scp.port, calledAet: 'DFA', callingAet }).store([file], moveOriginator ? { moveOriginator } : {});
    await push('PACS', files[0], { aet: 'DFA', messageId: exp.moveMessageId }); // ours: joins
    await push('PACS', files[1]); // the PACS, but no Move Originator: a push
    await push('OTHER', files[2], { aet: 'DFA', messageId: exp.moveMessageId }); // another sender claiming our C-MOVE
    await push('PACS', files[3], { aet: 'DFA', messageId: other.moveMessageId }); // the PACS, for another C-MOVE
    await push('PACS', files[4], { aet: 'SOMEONE', messageId: exp.moveMessageId }); // someone else's C-MOVE
    assert.deepEqual(exp.received.map((r) => r.sopInstanceUid), [p10.sopInstanceUid]);
    assert.equal(other.received.length, 0);
    assert.equal(scp.inbox.length, 4);
    exp.done();
    other.done();
  } finally {
    await scp.close();
    await rm(root, { recursive: true, force: true });
  }
});
