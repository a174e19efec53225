/**
 * Material for fuzzing our DIMSE layer (issue 10 §1): a seeded PRNG, valid PDU streams a peer would
 * send (as association requestor and as PACS), a corpus of known-malformed PDUs, and mutations.
 * Everything is deterministic for a given seed, so a failing case can be replayed.
 */
import { CMD, encodeCommand } from '../../src/dicom/dimse/command.ts';
import {
  PDU, encodeAbort, encodeAssociateAc, encodeAssociateRj, encodeAssociateRq, encodeReleaseRp, encodeReleaseRq, pDataHeader,
} from '../../src/dicom/dimse/pdu.ts';
import { encodeIdentifier } from '../../src/dicom/dimse/dataset.ts';
import { STUDY_ROOT_FIND, STUDY_ROOT_GET, TS, VERIFICATION } from '../../src/dicom/dimse/uids.ts';

/** mulberry32: small, fast, good enough to pick mutations. */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}

const CT = '1.2.840.10008.5.1.4.1.1.2';

export function pdata(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer {
  return Buffer.concat([pDataHeader(contextId, isCommand, isLast, data.length), data]);
}

export function associateRq(calledAet: string, callingAet: string, maxPduLength = 16384): Buffer {
  return encodeAssociateRq({
    calledAet, callingAet, maxPduLength,
    contexts: [
      { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TS.IMPLICIT_LE] },
      { id: 3, abstractSyntax: CT, transferSyntaxes: [TS.EXPLICIT_LE, TS.IMPLICIT_LE] },
      { id: 5, abstractSyntax: STUDY_ROOT_FIND, transferSyntaxes: [TS.EXPLICIT_LE] },
    ],
    roles: [{ sopClassUid: CT, scu: true, scp: false }],
  });
}

export const echoRq = (messageId = 1): Buffer =>
  pdata(1, true, true, encodeCommand({ commandField: CMD.C_ECHO_RQ, messageId, affectedSopClassUid: VERIFICATION, hasDataset: false }));

/** A small explicit VR LE data set: Study, Series UIDs and a few bytes of pixel data. */
function tinyDataset(): Buffer {
  const el = (g: number, e: number, vr: string, v: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(g, 0);
    h.writeUInt16LE(e, 2);
    h.write(vr, 4, 'ascii');
    h.writeUInt16LE(v.length, 6);
    return Buffer.concat([h, v]);
  };
  return Buffer.concat([el(0x0020, 0x000d, 'UI', Buffer.from('1.2.3.4\0')), el(0x0020, 0x000e, 'UI', Buffer.from('1.2.3.4.5\0'))]);
}

export function storeRq(messageId = 2): Buffer[] {
  const cmd = encodeCommand({ commandField: CMD.C_STORE_RQ, messageId, affectedSopClassUid: CT, affectedSopInstanceUid: `1.2.3.4.5.${messageId}`, priority: 0, hasDataset: true });
  const ds = tinyDataset();
  return [pdata(3, true, true, cmd), pdata(3, false, false, ds.subarray(0, 10)), pdata(3, false, true, ds.subarray(10))];
}

/** What a well-behaved requestor sends our SCP: associate, C-ECHO, C-STORE, release. */
export function validRequestorStream(calledAet: string, callingAet: string): Buffer[] {
  return [associateRq(calledAet, callingAet), echoRq(1), ...storeRq(2), encodeReleaseRq()];
}

/** What a well-behaved PACS answers to our C-ECHO association: AC (context 1), C-ECHO-RSP, A-RELEASE-RP. */
export function validPacsReplies(calledAet: string, callingAet: string, messageId = 1): Buffer[] {
  return [
    encodeAssociateAc({ calledAet, callingAet, maxPduLength: 16384, roles: [], contexts: [{ id: 1, result: 0, transferSyntax: TS.EXPLICIT_LE }] }),
    pdata(1, true, true, encodeCommand({ commandField: CMD.C_ECHO_RSP, messageIdBeingRespondedTo: messageId, affectedSopClassUid: VERIFICATION, status: 0, hasDataset: false })),
    encodeReleaseRp(),
  ];
}

/** What a well-behaved PACS answers to our C-FIND (context 1): AC, two matches (pending), final success, A-RELEASE-RP. */
export function validPacsFindReplies(calledAet: string, callingAet: string, messageId = 1): Buffer[] {
  const rsp = (status: number, hasDataset: boolean) =>
    pdata(1, true, true, encodeCommand({ commandField: CMD.C_FIND_RSP, messageIdBeingRespondedTo: messageId, affectedSopClassUid: STUDY_ROOT_FIND, status, hasDataset }));
  const match = (uid: string) => pdata(1, false, true, encodeIdentifier({ QueryRetrieveLevel: 'STUDY', StudyInstanceUID: uid, PatientID: 'P1', ModalitiesInStudy: ['CT'] }, TS.EXPLICIT_LE));
  return [
    encodeAssociateAc({ calledAet, callingAet, maxPduLength: 16384, roles: [], contexts: [{ id: 1, result: 0, transferSyntax: TS.EXPLICIT_LE }] }),
    rsp(0xff00, true), match('1.2.3.1'), rsp(0xff00, true), match('1.2.3.2'), rsp(0, false),
    encodeReleaseRp(),
  ];
}

/**
 * What a well-behaved PACS answers to our C-GET (context 1; our first storage context, 3, is CT
 * Image): AC, one C-STORE sub-operation with its data set, the final C-GET-RSP, A-RELEASE-RP.
 */
export function validPacsGetReplies(calledAet: string, callingAet: string, messageId = 1): Buffer[] {
  const ctx = [{ id: 1, result: 0, transferSyntax: TS.EXPLICIT_LE }, { id: 3, result: 0, transferSyntax: TS.EXPLICIT_LE }];
  const store = encodeCommand({ commandField: CMD.C_STORE_RQ, messageId: 1000, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2.3.4.5.6', priority: 0, hasDataset: true });
  const ds = tinyDataset();
  return [
    encodeAssociateAc({ calledAet, callingAet, maxPduLength: 16384, roles: [{ sopClassUid: CT, scu: false, scp: true }], contexts: ctx }),
    pdata(3, true, true, store), pdata(3, false, false, ds.subarray(0, 7)), pdata(3, false, true, ds.subarray(7)),
    pdata(1, true, true, encodeCommand({ commandField: CMD.C_GET_RSP, messageIdBeingRespondedTo: messageId, affectedSopClassUid: STUDY_ROOT_GET, status: 0, completed: 1, failed: 0, warning: 0, hasDataset: false })),
    encodeReleaseRp(),
  ];
}

/** Malformed PDUs, each named for the defect it exercises (after a valid association where noted). */
export function malformedCorpus(calledAet: string, callingAet: string): { name: string; afterAssociation: boolean; bytes: Buffer }[] {
  const rq = associateRq(calledAet, callingAet);
  const withLength = (b: Buffer, len: number): Buffer => {
    const c = Buffer.from(b);
    c.writeUInt32BE(len >>> 0, 2);
    return c;
  };
  // The 20-byte killer: P-DATA-TF, one command PDV holding a CommandField element of length 0.
  const zeroField = Buffer.alloc(8);
  zeroField.writeUInt16LE(0x0000, 0);
  zeroField.writeUInt16LE(0x0100, 2);
  const killer = pdata(1, true, true, zeroField);
  // A-ASSOCIATE-RQ whose user information sub-item (max length) claims more bytes than the item holds.
  const truncatedUserInfo = Buffer.from(rq);
  const ui = truncatedUserInfo.lastIndexOf(Buffer.from([0x51, 0x00, 0x00, 0x04]));
  truncatedUserInfo.writeUInt16BE(0x4000, ui + 2);
  const lyingItem = Buffer.from(rq);
  lyingItem.writeUInt16BE(0xffff, 6 + 68 + 2); // the application context item's length
  const huge = Buffer.alloc(6);
  huge[0] = PDU.P_DATA_TF;
  huge.writeUInt32BE(0xfffffff0, 2);
  const hugeRq = Buffer.alloc(6);
  hugeRq[0] = PDU.ASSOCIATE_RQ;
  hugeRq.writeUInt32BE(0x7fffffff, 2);
  const pdvTooLong = pdata(1, true, true, Buffer.alloc(8));
  pdvTooLong.writeUInt32BE(0xffffffff, 6);
  const pdvTooShort = pdata(1, true, true, Buffer.alloc(8));
  pdvTooShort.writeUInt32BE(1, 6);
  const lyingCmdElement = encodeCommand({ commandField: CMD.C_ECHO_RQ, messageId: 1, hasDataset: false });
  lyingCmdElement.writeUInt32LE(0xfffffff0, 12 + 4); // first element after the group length
  const dataNoCommand = pdata(1, false, true, Buffer.alloc(100, 7));
  const unknownContext = pdata(9, true, true, encodeCommand({ commandField: CMD.C_ECHO_RQ, messageId: 1, hasDataset: false }));
  const tinyMaxPdu = associateRq(calledAet, callingAet, 6);
  return [
    { name: 'zero-length CommandField (20-byte P-DATA-TF)', afterAssociation: true, bytes: killer },
    { name: 'the same before any association', afterAssociation: false, bytes: killer },
    { name: 'truncated user-information sub-item', afterAssociation: false, bytes: truncatedUserInfo },
    { name: 'A-ASSOCIATE item longer than the PDU', afterAssociation: false, bytes: lyingItem },
    { name: 'A-ASSOCIATE-RQ shorter than its fixed part', afterAssociation: false, bytes: withLength(rq.subarray(0, 40), 34) },
    { name: 'P-DATA-TF announcing 4 GiB', afterAssociation: true, bytes: huge },
    { name: 'P-DATA-TF streamed before associating', afterAssociation: false, bytes: Buffer.concat([huge, Buffer.alloc(65536)]) },
    { name: 'A-ASSOCIATE-RQ announcing 2 GiB', afterAssociation: false, bytes: hugeRq },
    { name: 'PDV item longer than its PDU', afterAssociation: true, bytes: pdvTooLong },
    { name: 'PDV item shorter than its header', afterAssociation: true, bytes: pdvTooShort },
    { name: 'command element longer than the command', afterAssociation: true, bytes: pdata(1, true, true, lyingCmdElement) },
    { name: 'data set fragment with no command', afterAssociation: true, bytes: dataNoCommand },
    { name: 'PDV on a context never accepted', afterAssociation: true, bytes: unknownContext },
    { name: 'peer max PDU 6', afterAssociation: false, bytes: tinyMaxPdu },
    { name: 'unknown PDU type 0x09', afterAssociation: false, bytes: Buffer.from([9, 0, 0, 0, 0, 4, 0, 0, 0, 0]) },
    { name: 'second A-ASSOCIATE-RQ', afterAssociation: true, bytes: rq },
    { name: 'A-ASSOCIATE-RJ sent to the acceptor', afterAssociation: false, bytes: encodeAssociateRj({ result: 1, source: 1, reason: 1 }) },
    { name: 'A-RELEASE-RQ before associating', afterAssociation: false, bytes: encodeReleaseRq() },
    { name: 'A-ABORT with a 60 KiB body', afterAssociation: false, bytes: withLength(Buffer.concat([encodeAbort(), Buffer.alloc(61440)]), 61444) },
  ];
}

/** Boundary values a length field is most likely to be wrong with. */
const INTERESTING = [0, 1, 2, 5, 6, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];

/** One random mutation of `b`: bit flip, interesting 16/32-bit value, truncation, insertion, splice, duplication. */
export function mutate(b: Buffer, r: ReturnType<typeof prng>): Buffer {
  const out = Buffer.from(b);
  if (out.length === 0) return Buffer.from([r.int(256)]);
  const at = r.int(out.length);
  switch (r.int(7)) {
    case 0:
      out[at] ^= 1 << r.int(8);
      return out;
    case 1:
      out[at] = r.pick([0, 1, 0x7f, 0x80, 0xff]);
      return out;
    case 2: {
      const v = r.pick(INTERESTING);
      if (at + 4 <= out.length && r.int(2) === 0) out.writeUInt32BE(v >>> 0, at);
      else if (at + 4 <= out.length) out.writeUInt32LE(v >>> 0, at);
      else if (at + 2 <= out.length) out.writeUInt16BE(v & 0xffff, at);
      return out;
    }
    case 3:
      return out.subarray(0, at);
    case 4: {
      const extra = Buffer.alloc(1 + r.int(64));
      for (let i = 0; i < extra.length; i++) extra[i] = r.int(256);
      return Buffer.concat([out.subarray(0, at), extra, out.subarray(at)]);
    }
    case 5: {
      const len = r.int(out.length - at);
      return Buffer.concat([out.subarray(0, at), out.subarray(at + len)]);
    }
    default:
      return Buffer.concat([out, out.subarray(at)]);
  }
}

/** A mutated version of a PDU stream: one to three of its PDUs mutated, sometimes PDUs dropped or repeated. */
export function mutateStream(pdus: readonly Buffer[], r: ReturnType<typeof prng>): Buffer[] {
  const out = [...pdus];
  const n = 1 + r.int(3);
  for (let k = 0; k < n; k++) {
    const i = r.int(out.length);
    const what = r.int(10);
    if (what === 0) out.splice(i, 1);
    else if (what === 1) out.splice(i, 0, out[i]);
    else out[i] = mutate(out[i], r);
    if (out.length === 0) out.push(Buffer.from([r.int(256)]));
  }
  return out;
}

/** Split a stream into reads at random offsets (how TCP may deliver it). */
export function randomChunks(b: Buffer, r: ReturnType<typeof prng>): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < b.length;) {
    const n = 1 + r.int(Math.min(b.length - o, r.int(2) ? 16 : 4096));
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}
