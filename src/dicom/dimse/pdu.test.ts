/** Unit tests of our own framing logic: PDUs split at any byte boundary come out the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand, CMD, statusKind } from './command.ts';
import { PDU, decodeAssociate, encodeAssociateRq, encodeReleaseRq, pDataHeader } from './pdu.ts';
import { PduReader, type StreamEvent } from './pdu-reader.ts';

function stream(): Buffer {
  const cmd = encodeCommand({ commandField: CMD.C_STORE_RQ, messageId: 7, affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3', hasDataset: true });
  const data = Buffer.alloc(3000, 0xab);
  return Buffer.concat([
    pDataHeader(1, true, true, cmd.length), cmd,
    pDataHeader(1, false, false, 1000), data.subarray(0, 1000),
    pDataHeader(1, false, true, 2000), data.subarray(1000),
    encodeReleaseRq(),
  ]);
}

function feed(b: Buffer, sizes: () => number): { events: StreamEvent[]; data: Buffer } {
  const r = new PduReader();
  const events: StreamEvent[] = [];
  const copies: Buffer[] = [];
  for (let o = 0; o < b.length;) {
    const n = Math.min(sizes(), b.length - o);
    const chunk = Buffer.from(b.subarray(o, o + n)); // a fresh buffer each time, overwritten below like a reused read buffer
    for (const e of r.push(chunk)) {
      events.push(e);
      if (e.kind === 'pdv' && !e.isCommand) copies.push(...e.parts.map((p) => Buffer.from(p)));
    }
    chunk.fill(0);
    o += n;
  }
  return { events, data: Buffer.concat(copies) };
}

test('PduReader yields the same PDVs and PDUs whatever the chunking', () => {
  const b = stream();
  for (const sizes of [() => 1, () => 7, () => 1 + Math.floor(Math.random() * 900), () => b.length]) {
    const { events, data } = feed(b, sizes);
    const pdvEnds = events.filter((e) => e.kind === 'pdv' && e.end);
    assert.deepEqual(pdvEnds.map((e) => e.kind === 'pdv' && [e.isCommand, e.isLast]), [[true, true], [false, false], [false, true]]);
    assert.deepEqual(data, Buffer.alloc(3000, 0xab));
    const last = events.at(-1);
    assert.equal(last?.kind === 'pdu' && last.type, PDU.RELEASE_RQ);
  }
});

test('command sets round-trip (PS3.7 E.1), odd-length UIDs padded to even length', () => {
  const c = { commandField: CMD.C_MOVE_RSP, messageIdBeingRespondedTo: 3, status: 0xb000, completed: 5, failed: 1, warning: 0, remaining: 0, affectedSopClassUid: '1.2.3', hasDataset: false };
  const enc = encodeCommand(c);
  assert.equal(enc.length % 2, 0);
  assert.deepEqual(decodeCommand(enc), c);
  assert.equal(statusKind(0xb000), 'warning');
  assert.equal(statusKind(0xff00), 'pending');
  assert.equal(statusKind(0xa801), 'failure');
});

test('A-ASSOCIATE-RQ round-trips contexts, max PDU and SCP role selection', () => {
  const rq = encodeAssociateRq({
    calledAet: 'ORTHANC', callingAet: 'DFA', maxPduLength: 65536,
    contexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }, { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] }],
    roles: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true }],
  });
  const d = decodeAssociate(rq.subarray(6));
  assert.equal(d.calledAet, 'ORTHANC');
  assert.equal(d.callingAet, 'DFA');
  assert.equal(d.maxPduLength, 65536);
  assert.deepEqual(d.proposed[1].transferSyntaxes, ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2']);
  assert.deepEqual(d.roles, [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true }]);
});
