/** Incremental PDU / PDV parsing of a TCP byte stream (PS3.8 9.3.1, 9.3.5). */
import { PDU } from './pdu.ts';

export type StreamEvent =
  | { readonly kind: 'pdu'; readonly type: number; readonly body: Buffer }
  /** Some bytes of a PDV, as they arrive; `end` marks the PDV's last bytes, `isLast` its message's last fragment. */
  | { readonly kind: 'pdv'; readonly contextId: number; readonly isCommand: boolean; readonly end: boolean; readonly isLast: boolean; readonly parts: Buffer[] };

/**
 * Splits a byte stream into PDUs, and P-DATA-TF PDUs straight into PDV fragments (PS3.8 9.3.5),
 * handing out fragment data as slices of the chunk just read. The caller must copy them before the
 * next push (the chunk may be a reused read buffer); a data set is thus copied exactly once.
 */
export class PduReader {
  private readonly head = Buffer.alloc(6);
  private headFill = 0;
  private state: 'pduHeader' | 'body' | 'pdvHeader' | 'pdvData' = 'pduHeader';
  private pduType = 0;
  private pduRemaining = 0;
  private bodyParts: Buffer[] = [];
  private pdvRemaining = 0;
  private pdvCtx = 0;
  private pdvMch = 0;

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
          if (this.pduType === PDU.P_DATA_TF) {
            this.state = 'pdvHeader';
          } else if (this.pduRemaining === 0) {
            out.push({ kind: 'pdu', type: this.pduType, body: Buffer.alloc(0) });
          } else {
            this.bodyParts = [];
            this.state = 'body';
          }
          break;
        }
        case 'body': {
          const n = Math.min(this.pduRemaining, chunk.length - o);
          this.bodyParts.push(chunk.subarray(o, o + n));
          o += n;
          this.pduRemaining -= n;
          if (this.pduRemaining === 0) {
            out.push({ kind: 'pdu', type: this.pduType, body: Buffer.concat(this.bodyParts) }); // a copy: chunks may be a reused read buffer
            this.bodyParts = [];
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
          this.pdvRemaining = this.head.readUInt32BE(0) - 2;
          this.pdvCtx = this.head[4];
          this.pdvMch = this.head[5];
          this.pduRemaining -= 6;
          this.state = 'pdvData';
          if (this.pdvRemaining <= 0) this.emitPdv(out, [], true);
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

  /** Parts are handed out at once: they are slices of the current chunk, valid only until the next push. */
  private emitPdv(out: StreamEvent[], parts: Buffer[], end: boolean): void {
    // PS3.8 E.2: bit 0 of the message control header = command, bit 1 = last fragment.
    out.push({ kind: 'pdv', contextId: this.pdvCtx, isCommand: (this.pdvMch & 1) === 1, end, isLast: (this.pdvMch & 2) === 2, parts });
    if (end) this.state = this.pduRemaining > 0 ? 'pdvHeader' : 'pduHeader';
  }
}
