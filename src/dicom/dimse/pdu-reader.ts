/** Incremental PDU / PDV parsing of a TCP byte stream (PS3.8 9.3.1, 9.3.5). */
import { DEFAULT_LIMITS, protocolError, type DimseLimits } from './limits.ts';
import { PDU } from './pdu.ts';

export type StreamEvent =
  | { readonly kind: 'pdu'; readonly type: number; readonly body: Buffer }
  /** Some bytes of a PDV, as they arrive; `end` marks the PDV's last bytes, `isLast` its message's last fragment. */
  | { readonly kind: 'pdv'; readonly contextId: number; readonly isCommand: boolean; readonly end: boolean; readonly isLast: boolean; readonly parts: Buffer[] };

/**
 * Splits a byte stream into PDUs, and P-DATA-TF PDUs straight into PDV fragments (PS3.8 9.3.5),
 * handing out fragment data as slices of the chunk just read. The caller must copy them before the
 * next push (the chunk may be a reused read buffer); a data set is thus copied exactly once.
 * Other PDUs are copied into a body of their own as they arrive, so one split across reads is never
 * read from a buffer a later read has overwritten.
 *
 * Every length is checked before it is used (PS3.8 9.3.1, 9.3.5): an unknown PDU type, a PDU over
 * its limit, a PDV item shorter than its 2-byte header or longer than what is left of its PDU throws
 * a DfaError; the caller aborts the association (PS3.8 9.3.8). After a throw the reader is unusable.
 */
export class PduReader {
  private readonly limits: Pick<DimseLimits, 'maxPdataLength' | 'maxOtherPduLength'>;
  private readonly head = Buffer.alloc(6);
  private headFill = 0;
  private state: 'pduHeader' | 'body' | 'pdvHeader' | 'pdvData' = 'pduHeader';
  private pduType = 0;
  private pduRemaining = 0;
  private body = Buffer.alloc(0);
  private bodyFill = 0;
  private pdvRemaining = 0;
  private pdvCtx = 0;
  private pdvMch = 0;

  constructor(limits: Partial<Pick<DimseLimits, 'maxPdataLength' | 'maxOtherPduLength'>> = {}) {
    this.limits = { maxPdataLength: limits.maxPdataLength ?? DEFAULT_LIMITS.maxPdataLength, maxOtherPduLength: limits.maxOtherPduLength ?? DEFAULT_LIMITS.maxOtherPduLength };
  }

  push(chunk: Buffer): StreamEvent[] {
    const out: StreamEvent[] = [];
    let o = 0;
    while (o < chunk.length || (this.state === 'pdvHeader' && this.pduRemaining === 0)) {
      switch (this.state) {
        case 'pduHeader': {
          const n = Math.min(6 - this.headFill, chunk.length - o);
          chunk.copy(this.head, this.headFill, o, o + n);
          this.headFill += n;
          o += n;
          if (this.headFill < 6) break;
          this.headFill = 0;
          this.pduType = this.head[0];
          this.pduRemaining = this.head.readUInt32BE(2);
          this.checkPduHeader();
          if (this.pduType === PDU.P_DATA_TF) {
            this.state = 'pdvHeader';
          } else if (this.pduRemaining === 0) {
            out.push({ kind: 'pdu', type: this.pduType, body: Buffer.alloc(0) });
          } else {
            this.body = Buffer.allocUnsafe(this.pduRemaining); // bounded by checkPduHeader
            this.bodyFill = 0;
            this.state = 'body';
          }
          break;
        }
        case 'body': {
          const n = Math.min(this.pduRemaining, chunk.length - o);
          chunk.copy(this.body, this.bodyFill, o, o + n); // a copy: the chunk may be a reused read buffer
          this.bodyFill += n;
          o += n;
          this.pduRemaining -= n;
          if (this.pduRemaining === 0) {
            out.push({ kind: 'pdu', type: this.pduType, body: this.body });
            this.body = Buffer.alloc(0);
            this.state = 'pduHeader';
          }
          break;
        }
        case 'pdvHeader': {
          if (this.pduRemaining === 0) {
            this.state = 'pduHeader';
            break;
          }
          const n = Math.min(6 - this.headFill, chunk.length - o);
          chunk.copy(this.head, this.headFill, o, o + n);
          this.headFill += n;
          o += n;
          if (this.headFill < 6) break;
          this.headFill = 0;
          // PS3.8 9.3.5.1: item length counts the context id and control header (2 bytes) and the data.
          const itemLength = this.head.readUInt32BE(0);
          if (this.pduRemaining < 6) throw protocolError(`P-DATA-TF: ${this.pduRemaining} byte(s) left, too few for a PDV item`);
          if (itemLength < 2 || itemLength > this.pduRemaining - 4) {
            throw protocolError(`P-DATA-TF: PDV item length ${itemLength} does not fit the ${this.pduRemaining - 4} byte(s) left in its PDU`);
          }
          this.pdvRemaining = itemLength - 2;
          this.pdvCtx = this.head[4];
          this.pdvMch = this.head[5];
          this.pduRemaining -= 6;
          this.state = 'pdvData';
          if (this.pdvRemaining === 0) this.emitPdv(out, [], true);
          break;
        }
        case 'pdvData': {
          const n = Math.min(this.pdvRemaining, chunk.length - o);
          const part = chunk.subarray(o, o + n);
          o += n;
          this.pdvRemaining -= n;
          this.pduRemaining -= n;
          this.emitPdv(out, [part], this.pdvRemaining === 0);
          break;
        }
      }
    }
    return out;
  }

  /** PS3.8 9.3.1: seven PDU types; lengths within what we announced (P-DATA) or 64 KiB (the others). */
  private checkPduHeader(): void {
    const t = this.pduType;
    const len = this.pduRemaining;
    if (t < PDU.ASSOCIATE_RQ || t > PDU.ABORT) throw protocolError(`unknown PDU type 0x${t.toString(16).padStart(2, '0')}`);
    if (t === PDU.P_DATA_TF) {
      if (len > this.limits.maxPdataLength) throw protocolError(`P-DATA-TF of ${len} bytes, over the ${this.limits.maxPdataLength} we announced`, { limit: 'pdu' });
      if (len < 6) throw protocolError(`P-DATA-TF of ${len} bytes holds no PDV item (PS3.8 9.3.5)`);
    } else if (len > this.limits.maxOtherPduLength) {
      throw protocolError(`PDU type ${t} of ${len} bytes, over the ${this.limits.maxOtherPduLength}-byte limit`, { limit: 'pdu' });
    }
  }

  /** Parts are handed out at once: they are slices of the current chunk, valid only until the next push. */
  private emitPdv(out: StreamEvent[], parts: Buffer[], end: boolean): void {
    // PS3.8 E.2: bit 0 of the message control header = command, bit 1 = last fragment.
    out.push({ kind: 'pdv', contextId: this.pdvCtx, isCommand: (this.pdvMch & 1) === 1, end, isLast: (this.pdvMch & 2) === 2, parts });
    if (end) this.state = this.pduRemaining > 0 ? 'pdvHeader' : 'pduHeader';
  }
}
