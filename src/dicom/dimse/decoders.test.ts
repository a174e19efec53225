/**
 * Our PDU and command decoders against hostile bytes (issue 10 §1): every PDU type split at every
 * offset across reads decodes exactly, even from a read buffer that the next read overwrites; the
 * known defects (zero-length CommandField, truncated user-information sub-items, lying lengths)
 * throw a DfaError; seeded random mutations never throw anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDfaError } from '../../core/errors.ts';
import { malformedCorpus, mutate, prng, validPacsReplies, validRequestorStream } from '../../../test/support/dimse-fuzz.ts';
import { decodeCommand } from './command.ts';
import { PDU, decodeAssociate, encodeAbort, encodeAssociateRj, encodeReleaseRp } from './pdu.ts';
import { PduReader, type StreamEvent } from './pdu-reader.ts';

/** Events with their bytes copied out (fragments are only valid until the next push). */
function snapshot(events: StreamEvent[]): unknown[] {
  return events.map((e) => (e.kind === 'pdu' ? { ...e, body: Buffer.from(e.body) } : { ...e, parts: [Buffer.concat(e.parts)] }));
}

/** Merge consecutive fragments of one PDV so differently split streams compare equal. */
function normalize(events: unknown[]): unknown[] {
  const out: { kind: string; parts?: Buffer[]; end?: boolean; [k: string]: unknown }[] = [];
  for (const e of events as { kind: string; parts?: Buffer[]; end?: boolean }[]) {
    const last = out.at(-1);
    if (e.kind === 'pdv' && last?.kind === 'pdv' && last.end === false) {
      last.parts = [Buffer.concat([...(last.parts ?? []), ...(e.parts ?? [])])];
      last.end = e.end;
      Object.assign(last, { ...e, parts: last.parts });
    } else out.push({ ...e });
  }
  return out;
}

/** Feed `b` in reads of the given sizes through ONE reused read buffer, as our sockets do. */
function feedReused(b: Buffer, cuts: number[]): unknown[] {
  const reader = new PduReader();
  const readBuf = Buffer.alloc(b.length);
  const events: unknown[] = [];
  let o = 0;
  for (const end of [...cuts, b.length]) {
    const n = b.copy(readBuf, 0, o, end);
    events.push(...snapshot(reader.push(readBuf.subarray(0, n))));
    readBuf.fill(0xee); // the next read lands here
    o = end;
  }
  return normalize(events);
}

test('every PDU type split at every offset across reads (one reused read buffer) decodes exactly', () => {
  const pdus = [
    ...validRequestorStream('DFA', 'PACS'), // A-ASSOCIATE-RQ, P-DATA (command, data in two PDVs), A-RELEASE-RQ
    ...validPacsReplies('PACS', 'DFA'), // A-ASSOCIATE-AC, P-DATA, A-RELEASE-RP
    encodeAssociateRj({ result: 1, source: 1, reason: 3 }), encodeAbort(2, 1), encodeReleaseRp(),
  ];
  assert.deepEqual(new Set(pdus.map((p) => p[0])), new Set([1, 2, 3, 4, 5, 6, 7]));
  let checked = 0;
  for (const p of pdus) {
    const whole = feedReused(p, []);
    assert.ok(whole.length > 0);
    for (let k = 1; k < p.length; k++) {
      assert.deepEqual(feedReused(p, [k]), whole, `PDU type ${p[0]} split at ${k}`);
      checked++;
    }
    // And byte by byte.
    assert.deepEqual(feedReused(p, Array.from({ length: p.length - 1 }, (_, i) => i + 1)), whole);
  }
  const rq = feedReused(pdus[0], [70]);
  const body = (rq[0] as { body: Buffer }).body;
  assert.equal(decodeAssociate(body).callingAet, 'PACS');
  assert.ok(checked > 500, String(checked));
});

test('the zero-length CommandField, truncated user-information sub-items and lying lengths are DfaErrors, not crashes', () => {
  const zeroField = Buffer.alloc(8);
  zeroField.writeUInt16LE(0x0100, 2);
  assert.throws(() => decodeCommand(zeroField), (e) => isDfaError(e, 'DICOM_PARSE_FAILED') && /0000,0100\) US of 0 bytes/.test((e as Error).message));
  assert.throws(() => decodeCommand(Buffer.alloc(3)), (e) => isDfaError(e));
  assert.throws(() => decodeCommand(Buffer.alloc(0)), (e) => isDfaError(e) && /without a Command Field/.test((e as Error).message));
  for (const c of malformedCorpus('DFA', 'PACS')) {
    const r = new PduReader();
    try {
      for (const ev of r.push(c.bytes)) if (ev.kind === 'pdu' && (ev.type === PDU.ASSOCIATE_RQ || ev.type === PDU.ASSOCIATE_AC)) decodeAssociate(ev.body);
    } catch (e) {
      assert.ok(isDfaError(e), `${c.name}: ${String(e)}`);
    }
  }
  const truncated = malformedCorpus('DFA', 'PACS').find((c) => c.name.startsWith('truncated user-information'))!;
  assert.throws(() => decodeAssociate(truncated.bytes.subarray(6)), (e) => isDfaError(e) && /user information/.test((e as Error).message));
});

test('seeded random mutations of valid PDUs make the decoders throw DfaErrors only (never RangeError)', (t) => {
  const r = prng(0x5eed);
  const started = performance.now();
  const seeds = [...validRequestorStream('DFA', 'PACS'), ...validPacsReplies('PACS', 'DFA')];
  let thrown = 0;
  for (let i = 0; i < 20000; i++) {
    const b = mutate(r.pick(seeds), r);
    try {
      for (const ev of new PduReader().push(b)) {
        if (ev.kind === 'pdu' && (ev.type === PDU.ASSOCIATE_RQ || ev.type === PDU.ASSOCIATE_AC)) decodeAssociate(ev.body);
        if (ev.kind === 'pdv' && ev.isCommand && ev.end) decodeCommand(Buffer.concat(ev.parts));
      }
    } catch (e) {
      thrown++;
      assert.ok(isDfaError(e), `case ${i}: ${(e as Error).stack}`);
    }
  }
  t.diagnostic(`decoders: 20000 mutated PDUs in ${(performance.now() - started).toFixed(0)} ms, ${thrown} refused`);
  assert.ok(thrown > 100, String(thrown)); // the mutations do reach the checks
});
