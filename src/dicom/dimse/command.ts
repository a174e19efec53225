/**
 * DIMSE command sets (PS3.7 9.3, E.1): group 0000 elements, always Implicit VR Little Endian.
 * Commands are plain objects; statuses are values classified by `statusKind` (PS3.7 C.1).
 */
import { protocolError } from './limits.ts';

export const CMD = {
  C_STORE_RQ: 0x0001,
  C_STORE_RSP: 0x8001,
  C_GET_RQ: 0x0010,
  C_GET_RSP: 0x8010,
  C_FIND_RQ: 0x0020,
  C_FIND_RSP: 0x8020,
  C_MOVE_RQ: 0x0021,
  C_MOVE_RSP: 0x8021,
  C_ECHO_RQ: 0x0030,
  C_ECHO_RSP: 0x8030,
  C_CANCEL_RQ: 0x0fff,
} as const;

/** PS3.7 E.1: CommandDataSetType 0x0101 means "no data set"; anything else means one follows. */
export const NO_DATASET = 0x0101;

export interface Command {
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  moveDestination?: string;
  priority?: number;
  hasDataset: boolean;
  status?: number;
  errorComment?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
  moveOriginatorAet?: string;
  moveOriginatorMessageId?: number;
}

type Kind = 'UI' | 'AE' | 'US' | 'UL' | 'LO';
const FIELDS: readonly [number, keyof Command, Kind][] = [
  [0x0002, 'affectedSopClassUid', 'UI'],
  [0x0003, 'requestedSopClassUid', 'UI'],
  [0x0100, 'commandField', 'US'],
  [0x0110, 'messageId', 'US'],
  [0x0120, 'messageIdBeingRespondedTo', 'US'],
  [0x0600, 'moveDestination', 'AE'],
  [0x0700, 'priority', 'US'],
  [0x0800, 'hasDataset', 'US'],
  [0x0900, 'status', 'US'],
  [0x0902, 'errorComment', 'LO'],
  [0x1000, 'affectedSopInstanceUid', 'UI'],
  [0x1001, 'requestedSopInstanceUid', 'UI'],
  [0x1020, 'remaining', 'US'],
  [0x1021, 'completed', 'US'],
  [0x1022, 'failed', 'US'],
  [0x1023, 'warning', 'US'],
  [0x1030, 'moveOriginatorAet', 'AE'],
  [0x1031, 'moveOriginatorMessageId', 'US'],
];

function element(el: number, kind: Kind, value: unknown): Buffer {
  let v: Buffer;
  if (kind === 'US') {
    v = Buffer.alloc(2);
    v.writeUInt16LE(Number(value) & 0xffff);
  } else if (kind === 'UL') {
    v = Buffer.alloc(4);
    v.writeUInt32LE(Number(value) >>> 0);
  } else {
    let s = String(value);
    if (s.length % 2 === 1) s += kind === 'UI' ? '\0' : ' '; // PS3.5 6.2: even length, UI pads with NUL
    v = Buffer.from(s, 'ascii');
  }
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(el, 2);
  h.writeUInt32LE(v.length, 4);
  return Buffer.concat([h, v]);
}

export function encodeCommand(c: Command): Buffer {
  const parts: Buffer[] = [];
  for (const [el, key, kind] of FIELDS) {
    const val = c[key];
    if (val === undefined) continue;
    parts.push(element(el, kind, key === 'hasDataset' ? (val ? 0x0000 : NO_DATASET) : val));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([element(0x0000, 'UL', body.length), body]);
}

const FIELD_BY_ELEMENT = new Map(FIELDS.map(([el, key, kind]) => [el, { key, kind }]));
const WIDTH: Partial<Record<Kind, number>> = { US: 2, UL: 4 };

/**
 * Decode a command set (implicit VR little endian, PS3.7 E.1). Every element must lie inside the
 * buffer and numeric ones must have their exact width: a short or lying element throws (and the
 * association is aborted) instead of being read past its end. A command without a CommandField is
 * refused too: nothing could answer it.
 */
export function decodeCommand(b: Buffer): Command {
  const c: Record<string, unknown> = { commandField: 0, hasDataset: false };
  let sawField = false;
  let o = 0;
  while (o < b.length) {
    if (o + 8 > b.length) throw protocolError(`command set: ${b.length - o} stray byte(s) after the last element`);
    const group = b.readUInt16LE(o);
    const el = b.readUInt16LE(o + 2);
    const len = b.readUInt32LE(o + 4);
    if (len > b.length - o - 8) throw protocolError(`command set: element (${hex4(group)},${hex4(el)}) declares ${len} bytes, ${b.length - o - 8} remain`);
    const v = b.subarray(o + 8, o + 8 + len);
    o += 8 + len;
    const f = group === 0x0000 ? FIELD_BY_ELEMENT.get(el) : undefined;
    if (!f) continue;
    const width = WIDTH[f.kind];
    if (width !== undefined && v.length !== width) throw protocolError(`command set: (0000,${hex4(el)}) ${f.kind} of ${v.length} bytes (must be ${width})`);
    if (f.key === 'hasDataset') c[f.key] = v.readUInt16LE(0) !== NO_DATASET;
    else if (f.kind === 'US') c[f.key] = v.readUInt16LE(0);
    else if (f.kind === 'UL') c[f.key] = v.readUInt32LE(0);
    else c[f.key] = v.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
    if (f.key === 'commandField') sawField = true;
  }
  if (!sawField) throw protocolError('command set without a Command Field (0000,0100)');
  return c as unknown as Command;
}
const hex4 = (n: number): string => n.toString(16).padStart(4, '0').toUpperCase();

export type StatusKind = 'success' | 'pending' | 'warning' | 'cancel' | 'failure';

/** PS3.7 C.1 and annex C.4: status classes. */
export function statusKind(status: number): StatusKind {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

/** Words for the statuses a PACS administrator meets (PS3.4 C.4.1.1.4, C.4.2.1.5, C.4.3.1.4, B.2.3). */
export function statusText(status: number): string {
  switch (status) {
    case 0x0000: return 'Success';
    case 0xff00: return 'Pending';
    case 0xff01: return 'Pending (optional keys not supported)';
    case 0xfe00: return 'Cancelled';
    case 0xb000: return 'Warning: sub-operations complete, one or more failures';
    case 0xa700: case 0xa701: case 0xa702: return 'Refused: out of resources';
    case 0xa801: return 'Refused: move destination unknown';
    case 0xa900: return 'Identifier does not match SOP class';
    case 0x0122: return 'Refused: SOP class not supported';
    case 0x0124: return 'Refused: not authorized';
    case 0x0211: return 'Unrecognized operation';
    default:
      if ((status & 0xf000) === 0xc000) return `Failure: unable to process (0x${status.toString(16).padStart(4, '0')})`;
      return `Status 0x${status.toString(16).padStart(4, '0')}`;
  }
}
