/**
 * A raw TCP DICOM peer for tests that must send bytes no real implementation would: it can
 * associate properly first, then send anything, and tells whether the other side closed on it.
 * Loopback only.
 */
import { connect, type Socket } from 'node:net';
import { PDU } from '../../src/dicom/dimse/pdu.ts';
import { associateRq } from './dimse-fuzz.ts';

export interface RawPeer {
  readonly socket: Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** Resolves true when the other side closed the connection within `ms` (we never close first). */
  closedWithin(ms: number): Promise<boolean>;
  /** Wait until a whole PDU has arrived; its type, or undefined if the connection closed first. */
  nextPduType(ms: number): Promise<number | undefined>;
  destroy(): void;
}

export async function rawPeer(port: number, opts: { localAddress?: string } = {}): Promise<RawPeer> {
  const socket = connect({ host: '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let consumed = 0;
  let closed = false;
  const closedP = new Promise<void>((r) => socket.once('close', () => {
    closed = true;
    r();
  }));
  socket.on('data', (d) => chunks.push(Buffer.from(d)));
  const received = () => Buffer.concat(chunks);
  return {
    socket,
    received,
    async closedWithin(ms) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([closedP, new Promise<void>((r) => { t = setTimeout(r, ms); })]);
      clearTimeout(t);
      return closed;
    },
    async nextPduType(ms) {
      const until = Date.now() + ms;
      for (;;) {
        const b = received().subarray(consumed);
        if (b.length >= 6 && b.length >= 6 + b.readUInt32BE(2)) {
          consumed += 6 + b.readUInt32BE(2);
          return b[0];
        }
        if (closed || Date.now() > until) return undefined;
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    destroy: () => socket.destroy(),
  };
}

/** Connect and associate (C-ECHO, CT storage, C-FIND contexts); throws unless A-ASSOCIATE-AC comes back. */
export async function associatedPeer(port: number, calledAet: string, callingAet: string): Promise<RawPeer> {
  const p = await rawPeer(port);
  p.socket.write(associateRq(calledAet, callingAet));
  const t = await p.nextPduType(5000);
  if (t !== PDU.ASSOCIATE_AC) {
    p.destroy();
    throw new Error(`expected A-ASSOCIATE-AC, got ${t === undefined ? 'nothing' : `PDU type ${t}`}`);
  }
  return p;
}
