/**
 * DICOM Upper Layer PDUs (PS3.8 9.3): encode and decode the seven PDU types.
 * Pure functions on Buffers; the socket handling lives in association.ts.
 */
import { protocolError } from './limits.ts';

export const PDU = {
  ASSOCIATE_RQ: 0x01,
  ASSOCIATE_AC: 0x02,
  ASSOCIATE_RJ: 0x03,
  P_DATA_TF: 0x04,
  RELEASE_RQ: 0x05,
  RELEASE_RP: 0x06,
  ABORT: 0x07,
} as const;

/** PS3.7 A.2.1: the one DICOM application context name. */
export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1549.1';
export const IMPLEMENTATION_VERSION = 'DFA_DIMSE_1';

export interface ProposedContext {
  readonly id: number; // odd, 1..255 (PS3.8 9.3.2.2)
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}
export interface AcceptedContext {
  readonly id: number;
  readonly result: number; // 0 acceptance, 1 user-rejection, 2 no reason, 3 abstract syntax not supported, 4 TS not supported
  readonly transferSyntax: string;
}
/** PS3.7 D.3.3.4 SCP/SCU role selection: needed for C-GET, where the SCU receives C-STOREs. */
export interface RoleSelection {
  readonly sopClassUid: string;
  readonly scu: boolean;
  readonly scp: boolean;
}
export interface AssociateRq {
  readonly calledAet: string;
  readonly callingAet: string;
  readonly contexts: readonly ProposedContext[];
  readonly maxPduLength: number;
  readonly roles: readonly RoleSelection[];
  readonly implementationClassUid?: string;
}
export interface AssociateAc {
  readonly calledAet: string;
  readonly callingAet: string;
  readonly contexts: readonly AcceptedContext[];
  readonly maxPduLength: number;
  readonly roles: readonly RoleSelection[];
}
export interface AssociateRj {
  readonly result: number; // 1 permanent, 2 transient
  readonly source: number; // 1 service user, 2 provider (ACSE), 3 provider (presentation)
  readonly reason: number; // source 1: 3 = calling AE not recognized, 7 = called AE not recognized
}
const aeField = (s: string): Buffer => Buffer.from(s.padEnd(16, ' ').slice(0, 16), 'ascii');
const uidBytes = (s: string): Buffer => Buffer.from(s, 'ascii');

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function userInfo(maxPduLength: number, roles: readonly RoleSelection[], implUid: string): Buffer {
  const max = Buffer.alloc(4);
  max.writeUInt32BE(maxPduLength);
  const parts = [item(0x51, max), item(0x52, uidBytes(implUid))];
  for (const r of roles) {
    const uid = uidBytes(r.sopClassUid);
    const b = Buffer.alloc(2 + uid.length + 2);
    b.writeUInt16BE(uid.length, 0);
    uid.copy(b, 2);
    b[2 + uid.length] = r.scu ? 1 : 0;
    b[3 + uid.length] = r.scp ? 1 : 0;
    parts.push(item(0x54, b));
  }
  parts.push(item(0x55, Buffer.from(IMPLEMENTATION_VERSION, 'ascii')));
  return item(0x50, Buffer.concat(parts));
}

function assocHeader(called: string, calling: string): Buffer {
  const h = Buffer.alloc(68);
  h.writeUInt16BE(1, 0); // protocol version
  aeField(called).copy(h, 4);
  aeField(calling).copy(h, 20);
  return h;
}

export function encodeAssociateRq(rq: AssociateRq): Buffer {
  const ctx = rq.contexts.map((c) => {
    const head = Buffer.from([c.id, 0, 0, 0]);
    const subs = [item(0x30, uidBytes(c.abstractSyntax)), ...c.transferSyntaxes.map((t) => item(0x40, uidBytes(t)))];
    return item(0x20, Buffer.concat([head, ...subs]));
  });
  return pdu(PDU.ASSOCIATE_RQ, Buffer.concat([
    assocHeader(rq.calledAet, rq.callingAet),
    item(0x10, uidBytes(APPLICATION_CONTEXT)),
    ...ctx,
    userInfo(rq.maxPduLength, rq.roles, rq.implementationClassUid ?? IMPLEMENTATION_CLASS_UID),
  ]));
}

export function encodeAssociateAc(ac: AssociateAc): Buffer {
  const ctx = ac.contexts.map((c) =>
    item(0x21, Buffer.concat([Buffer.from([c.id, 0, c.result, 0]), item(0x40, uidBytes(c.transferSyntax))])),
  );
  return pdu(PDU.ASSOCIATE_AC, Buffer.concat([
    assocHeader(ac.calledAet, ac.callingAet),
    item(0x10, uidBytes(APPLICATION_CONTEXT)),
    ...ctx,
    userInfo(ac.maxPduLength, ac.roles, IMPLEMENTATION_CLASS_UID),
  ]));
}

export const encodeAssociateRj = (rj: AssociateRj): Buffer =>
  pdu(PDU.ASSOCIATE_RJ, Buffer.from([0, rj.result, rj.source, rj.reason]));
export const encodeReleaseRq = (): Buffer => pdu(PDU.RELEASE_RQ, Buffer.alloc(4));
export const encodeReleaseRp = (): Buffer => pdu(PDU.RELEASE_RP, Buffer.alloc(4));
export const encodeAbort = (source = 0, reason = 0): Buffer => pdu(PDU.ABORT, Buffer.from([0, 0, source, reason]));

/** Header of a P-DATA-TF PDU holding one PDV of `dataLength` bytes; the data follows (no copy). */
export function pDataHeader(contextId: number, isCommand: boolean, isLast: boolean, dataLength: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = PDU.P_DATA_TF;
  h.writeUInt32BE(dataLength + 6, 2);
  h.writeUInt32BE(dataLength + 2, 6);
  h[10] = contextId;
  h[11] = (isCommand ? 1 : 0) | (isLast ? 2 : 0); // PS3.8 E.2 message control header
  return h;
}

const trimAe = (b: Buffer): string => b.toString('ascii').replace(/[\s\0]+$/, '').replace(/^\s+/, '');
const trimUid = (b: Buffer): string => b.toString('ascii').replace(/[\s\0]+$/, '');

interface ParsedAssociate {
  calledAet: string;
  callingAet: string;
  proposed: ProposedContext[];
  accepted: AcceptedContext[];
  maxPduLength: number;
  roles: RoleSelection[];
  implementationClassUid?: string;
}

/**
 * Items and sub-items (PS3.8 9.3.2: type, reserved, 2-byte length, value), each checked to lie
 * inside `b` before it is handed out: a length running past its parent aborts the association.
 */
function* items(b: Buffer, from: number, what: string): Generator<{ type: number; value: Buffer }> {
  let o = from;
  while (o < b.length) {
    if (o + 4 > b.length) throw protocolError(`A-ASSOCIATE: ${b.length - o} stray byte(s) at the end of ${what}`);
    const len = b.readUInt16BE(o + 2);
    if (o + 4 + len > b.length) throw protocolError(`A-ASSOCIATE: item 0x${b[o].toString(16)} in ${what} declares ${len} bytes, ${b.length - o - 4} remain`);
    yield { type: b[o], value: b.subarray(o + 4, o + 4 + len) };
    o += 4 + len;
  }
}

/** Decode the body (after the 6-byte header) of an A-ASSOCIATE-RQ or -AC; throws on any malformed length. */
export function decodeAssociate(body: Buffer): ParsedAssociate {
  // PS3.8 9.3.2: protocol version, reserved, called AE, calling AE, 32 reserved bytes, then items.
  if (body.length < 68) throw protocolError(`A-ASSOCIATE: ${body.length} bytes, shorter than its 68-byte fixed part`);
  const r: ParsedAssociate = {
    calledAet: trimAe(body.subarray(4, 20)),
    callingAet: trimAe(body.subarray(20, 36)),
    proposed: [],
    accepted: [],
    maxPduLength: 0,
    roles: [],
  };
  for (const { type, value: v } of items(body, 68, 'the PDU')) {
    if (type === 0x20 || type === 0x21) {
      if (v.length < 4) throw protocolError(`A-ASSOCIATE: presentation context item of ${v.length} bytes (at least 4)`);
      let abstractSyntax = '';
      const ts: string[] = [];
      for (const sub of items(v, 4, 'a presentation context')) {
        const sv = trimUid(sub.value);
        if (sub.type === 0x30) abstractSyntax = sv;
        else if (sub.type === 0x40) ts.push(sv);
      }
      if (type === 0x20) r.proposed.push({ id: v[0], abstractSyntax, transferSyntaxes: ts });
      else r.accepted.push({ id: v[0], result: v[2], transferSyntax: ts[0] ?? '' });
    } else if (type === 0x50) {
      for (const { type: st, value: sv } of items(v, 0, 'the user information')) {
        if (st === 0x51) {
          if (sv.length !== 4) throw protocolError(`A-ASSOCIATE: maximum length sub-item of ${sv.length} bytes (PS3.8 D.1: 4)`);
          r.maxPduLength = sv.readUInt32BE(0);
        } else if (st === 0x52) r.implementationClassUid = trimUid(sv);
        else if (st === 0x54) {
          // PS3.7 D.3.3.4: UID length, UID, SCU role, SCP role.
          const ul = sv.length >= 2 ? sv.readUInt16BE(0) : -1;
          if (ul < 0 || 4 + ul > sv.length) throw protocolError(`A-ASSOCIATE: role selection sub-item of ${sv.length} bytes does not fit its UID length`);
          r.roles.push({ sopClassUid: trimUid(sv.subarray(2, 2 + ul)), scu: sv[2 + ul] === 1, scp: sv[3 + ul] === 1 });
        }
      }
    }
  }
  return r;
}
