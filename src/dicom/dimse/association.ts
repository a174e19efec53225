/**
 * One DICOM association over a TCP socket (PS3.8 9): PDU framing, message assembly from PDVs,
 * request/response matching by Message ID, timeouts. Symmetric: either side may send requests
 * (a C-GET SCU receives C-STORE requests on its own association, PS3.4 C.4.3).
 * Sockets run with TCP_NODELAY so small command PDVs are not held back by Nagle + delayed ACK
 * (DESIGN.md gotcha: a ~45 ms floor per exchange otherwise).
 */
import { Socket } from 'node:net';
import { DfaError } from '../../core/errors.ts';
import { CMD, decodeCommand, encodeCommand, statusKind, type Command } from './command.ts';
import {
  PDU, decodeAssociate, encodeAbort, encodeAssociateRq, encodeReleaseRp, encodeReleaseRq,
  pDataHeader, type AcceptedContext, type AssociateRq, type RoleSelection,
} from './pdu.ts';
import { DEFAULT_LIMITS, MIN_PEER_MAX_PDU, protocolError, type DimseLimits } from './limits.ts';
import { PduReader } from './pdu-reader.ts';

export interface DimseTimeouts {
  /** TCP connect. */
  readonly connectMs: number;
  /** From A-ASSOCIATE-RQ to -AC/-RJ, and for A-RELEASE. */
  readonly associationMs: number;
  /** Longest silence while a response is awaited (reset by every PDU received). */
  readonly dimseMs: number;
  /** Longest silence with nothing outstanding before the association is closed. */
  readonly idleMs: number;
}
export const DEFAULT_TIMEOUTS: DimseTimeouts = { connectMs: 10000, associationMs: 15000, dimseMs: 30000, idleMs: 60000 };

export interface DimseMessage {
  readonly contextId: number;
  readonly command: Command;
  readonly dataset?: Buffer;
}
export interface NegotiatedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

export { OUR_MAX_PDU } from './limits.ts';

interface PendingRequest {
  readonly what: string;
  readonly onPending?: (m: DimseMessage) => void;
  resolve(m: DimseMessage): void;
  reject(e: Error): void;
}

export class Association {
  readonly socket: Socket;
  readonly peer: string; // host:port
  callingAet = '';
  calledAet = '';
  contexts = new Map<number, NegotiatedContext>();
  roles: RoleSelection[] = [];
  peerMaxPdu = 0;
  /** Handler for requests the peer sends; run one at a time, in order. */
  onRequest?: (m: DimseMessage, a: Association) => Promise<void>;
  /**
   * Set by the owner when its request handlers keep no reference to `m.dataset` once they settle:
   * that memory then receives the next data set instead of a fresh buffer per instance (on a
   * 300-instance C-GET, ~150 MB of short-lived buffers kept V8's major GC busy).
   */
  reuseDatasets = false;
  /** Called for A-ASSOCIATE-RQ on the accepting side. */
  onAssociateRq?: (rq: ReturnType<typeof decodeAssociate>) => void;
  /** Told once why we aborted an association the peer broke (bad PDU, limit, protocol state). */
  onProtocolError?: (reason: string) => void;
  readonly limits: DimseLimits;

  /**
   * PS3.8 9.2 states, reduced to what a peer can get wrong: before the association is established
   * only A-ASSOCIATE PDUs (and A-ABORT) are valid; P-DATA and A-RELEASE only after.
   */
  private phase: 'negotiating' | 'established' = 'negotiating';
  private rqSeen = false;
  private readonly reader: PduReader;
  private readonly pending = new Map<number, PendingRequest>();
  private nextMessageId = 1;
  private cmdParts: Buffer[] = [];
  private cmdLen = 0;
  /** The data set being received, copied straight out of the read buffer (grown by doubling). */
  private dataBuf?: Buffer;
  private dataLen = 0;
  private lastDataLen = 64 * 1024;
  /** A received data set's buffer, given back by its handler (reuseDatasets), for the next one. */
  private spare?: Buffer;
  private current?: { contextId: number; command: Command };
  private queue: Promise<void> = Promise.resolve();
  private releaseWaiter?: () => void;
  private assocWaiter?: (type: number, body: Buffer) => void;
  private closedReason?: string;
  readonly closed: Promise<void>;
  readonly timeouts: DimseTimeouts;

  constructor(socket: Socket, peer: string, timeouts: DimseTimeouts, limits: Partial<DimseLimits> = {}) {
    this.socket = socket;
    this.peer = peer;
    this.timeouts = timeouts;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.reader = new PduReader(this.limits);
    socket.setNoDelay(true);
    socket.setTimeout(timeouts.idleMs);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (e) => this.failAll(new DfaError('DICOM_CONNECTION_FAILED', `connection to ${this.peer} failed: ${e.message}`, { cause: e })));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.failAll(new DfaError('DICOM_CONNECTION_FAILED', `association with ${this.calledAet || 'peer'} at ${this.peer} closed${this.closedReason ? ': ' + this.closedReason : ' by the peer'}`));
      resolve();
    }));
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.closedReason === undefined;
  }

  /** Wait for one association-phase PDU (AC, RJ, abort) on the requesting side. */
  waitAssociationPdu(): Promise<{ type: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.assocWaiter = undefined;
        reject(new DfaError('DICOM_TIMEOUT', `no association response from ${this.peer} within ${this.timeouts.associationMs} ms`, { details: { peer: this.peer } }));
      }, this.timeouts.associationMs);
      this.assocWaiter = (type, body) => {
        clearTimeout(t);
        this.assocWaiter = undefined;
        resolve({ type, body });
      };
      this.socket.once('close', () => {
        clearTimeout(t);
        if (this.assocWaiter) {
          this.assocWaiter = undefined;
          reject(new DfaError('DICOM_CONNECTION_FAILED', `${this.peer} closed the connection during association negotiation`, { details: { peer: this.peer } }));
        }
      });
    });
  }

  sendAssociateRq(rq: AssociateRq): void {
    this.callingAet = rq.callingAet;
    this.calledAet = rq.calledAet;
    this.socket.write(encodeAssociateRq(rq));
  }

  /** Record the outcome of negotiation (either side); from here on P-DATA is valid. */
  setNegotiated(proposed: Map<number, string>, accepted: readonly AcceptedContext[], peerMaxPdu: number): void {
    if (!peerMaxPduOk(peerMaxPdu)) throw protocolError(`peer's maximum PDU length ${peerMaxPdu} is below ${MIN_PEER_MAX_PDU} (PS3.8 D.1)`);
    for (const a of accepted) {
      const abstractSyntax = proposed.get(a.id);
      if (a.result === 0 && abstractSyntax) this.contexts.set(a.id, { id: a.id, abstractSyntax, transferSyntax: a.transferSyntax });
    }
    this.peerMaxPdu = peerMaxPdu;
    this.phase = 'established';
  }

  /** First accepted context for an abstract syntax (optionally with a given transfer syntax). */
  contextFor(abstractSyntax: string, transferSyntax?: string): NegotiatedContext | undefined {
    for (const c of this.contexts.values()) {
      if (c.abstractSyntax === abstractSyntax && (transferSyntax === undefined || c.transferSyntax === transferSyntax)) return c;
    }
    return undefined;
  }

  newMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 0xffff) + 1;
    return id;
  }

  /** Send one DIMSE message: command PDV, then the data set split to the peer's max PDU. */
  send(contextId: number, command: Command, dataset?: Buffer): void {
    if (!this.isOpen) throw new DfaError('DICOM_CONNECTION_FAILED', `association with ${this.peer} is closed`);
    const cmd = encodeCommand({ ...command, hasDataset: dataset !== undefined });
    // PS3.8 9.3.5: each P-DATA-TF carries one PDV: 4-byte length, context id, control header, data.
    const max = this.peerMaxPdu > 0 ? Math.min(this.peerMaxPdu, 4 << 20) - 6 : (1 << 20) - 6;
    if (max < 1) throw new DfaError('INTERNAL', `cannot send to a peer whose maximum PDU length is ${this.peerMaxPdu}`);
    if (!dataset) {
      this.socket.write(Buffer.concat([pDataHeader(contextId, true, true, cmd.length), cmd]));
      return;
    }
    this.socket.cork();
    this.socket.write(pDataHeader(contextId, true, true, cmd.length));
    this.socket.write(cmd);
    {
      if (dataset.length === 0) this.socket.write(pDataHeader(contextId, false, true, 0));
      for (let o = 0; o < dataset.length; o += max) {
        const part = dataset.subarray(o, Math.min(o + max, dataset.length));
        this.socket.write(pDataHeader(contextId, false, o + max >= dataset.length, part.length));
        this.socket.write(part);
      }
    }
    this.socket.uncork();
  }

  /**
   * Send a request and resolve with its final response (status not Pending). Pending responses
   * (C-FIND matches, C-GET/C-MOVE progress) go to `onPending`.
   */
  request(contextId: number, command: Command, dataset: Buffer | undefined, what: string, onPending?: (m: DimseMessage) => void): Promise<DimseMessage> {
    const messageId = command.messageId ?? this.newMessageId();
    return new Promise((resolve, reject) => {
      this.pending.set(messageId, { what, onPending, resolve, reject });
      this.socket.setTimeout(this.timeouts.dimseMs);
      try {
        this.send(contextId, { ...command, messageId }, dataset);
      } catch (e) {
        this.pending.delete(messageId);
        reject(e as Error);
      }
    });
  }

  async release(): Promise<void> {
    if (!this.isOpen) return;
    const done = new Promise<void>((resolve) => {
      this.releaseWaiter = resolve;
      setTimeout(resolve, this.timeouts.associationMs).unref();
    });
    this.socket.write(encodeReleaseRq());
    await Promise.race([done, this.closed]);
    this.closedReason = 'released';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** The peer broke the protocol or a limit: say so once, abort (PS3.8 9.3.8) and disconnect. */
  protocolAbort(reason: string): void {
    if (this.socket.destroyed) return;
    try {
      this.onProtocolError?.(reason);
    } finally {
      this.abort(reason);
    }
  }

  /** PS3.8 9.3.4: send A-ASSOCIATE-RJ and disconnect (destroyed, not half-closed, whatever the peer does). */
  rejectAndClose(rj: Buffer): void {
    if (!this.isOpen) return;
    this.closedReason = 'rejected';
    this.socket.write(rj, () => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  abort(reason = 'aborted'): void {
    if (this.socket.destroyed) return;
    this.closedReason = reason;
    try {
      this.socket.write(encodeAbort());
    } finally {
      this.socket.destroy();
    }
  }

  private onTimeout(): void {
    if (this.pending.size > 0) {
      const what = [...this.pending.values()][0].what;
      this.failAll(new DfaError('DICOM_TIMEOUT', `${what}: no response from ${this.calledAet || 'peer'} at ${this.peer} within ${this.timeouts.dimseMs} ms`, { details: { peer: this.peer } }));
      this.abort('DIMSE timeout');
    } else {
      this.abort(`idle for ${this.timeouts.idleMs} ms`);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onData(d: Buffer): void {
    if (!this.isOpen) return; // bytes read after an abort, a rejection or a release: ignored
    try {
      for (const ev of this.reader.push(d)) {
        if (!this.isOpen) return;
        if (ev.kind === 'pdv') {
          if (this.phase !== 'established') throw protocolError('P-DATA-TF before the association was established');
          this.onPdv(ev.contextId, ev.isCommand, ev.end && ev.isLast, ev.parts);
        } else if (!this.onPdu(ev.type, ev.body)) return;
      }
    } catch (e) {
      // Any decoding error, limit or handler fault while reading: this association ends, nothing else.
      this.protocolAbort(`bad data from the peer: ${(e as Error).message}`);
    }
  }

  /** One complete non-P-DATA PDU; false when the association is over. */
  private onPdu(type: number, body: Buffer): boolean {
    switch (type) {
      case PDU.ASSOCIATE_RQ:
        if (!this.onAssociateRq || this.rqSeen || this.phase !== 'negotiating') throw protocolError('unexpected A-ASSOCIATE-RQ');
        this.rqSeen = true;
        this.onAssociateRq(decodeAssociate(body));
        return true;
      case PDU.ASSOCIATE_AC:
      case PDU.ASSOCIATE_RJ:
        if (!this.assocWaiter || this.phase !== 'negotiating') throw protocolError(`unexpected A-ASSOCIATE-${type === PDU.ASSOCIATE_AC ? 'AC' : 'RJ'}`);
        this.assocWaiter(type, body);
        return true;
      case PDU.ABORT:
        this.assocWaiter?.(type, body);
        this.closedReason = 'aborted by the peer (A-ABORT)';
        this.failAll(new DfaError('DICOM_CONNECTION_FAILED', `${this.calledAet || 'peer'} at ${this.peer} aborted the association`));
        this.socket.destroy();
        return false;
      case PDU.RELEASE_RQ:
        if (this.phase !== 'established') throw protocolError('A-RELEASE-RQ before the association was established');
        this.closedReason = 'released by the peer';
        this.socket.write(encodeReleaseRp());
        this.socket.end();
        // PS3.8 9.1.5: ARTIM: the requestor closes the connection; if it does not, we do.
        setTimeout(() => this.socket.destroy(), this.timeouts.associationMs).unref();
        return false;
      case PDU.RELEASE_RP:
        if (!this.releaseWaiter) throw protocolError('unexpected A-RELEASE-RP');
        this.releaseWaiter();
        return false;
      default:
        throw protocolError(`unexpected PDU type ${type}`);
    }
  }

  private onPdv(contextId: number, isCommand: boolean, isLast: boolean, parts: Buffer[]): void {
    if (!this.contexts.has(contextId)) throw protocolError(`PDV on presentation context ${contextId}, which was not accepted`);
    if (isCommand) {
      if (this.current) throw protocolError('a command fragment where the data set of the previous command was expected');
      for (const p of parts) {
        this.cmdLen += p.length;
        if (this.cmdLen > this.limits.maxCommandBytes) throw protocolError(`command set over ${this.limits.maxCommandBytes} bytes`, { limit: 'command' });
        this.cmdParts.push(Buffer.from(p)); // copy: parts live in a reused buffer
      }
      if (!isLast) return;
      const command = decodeCommand(this.cmdParts.length === 1 ? this.cmdParts[0] : Buffer.concat(this.cmdParts));
      this.cmdParts = [];
      this.cmdLen = 0;
      if (command.hasDataset) {
        this.current = { contextId, command };
        return;
      }
      this.dispatch({ contextId, command });
      return;
    }
    if (!this.current) throw protocolError('a data set fragment with no command announcing one');
    if (this.current.contextId !== contextId) throw protocolError(`data set on context ${contextId}, its command on context ${this.current.contextId}`);
    const max = this.limits.maxDatasetBytes;
    for (const p of parts) {
      if (this.dataLen + p.length > max) throw protocolError(`data set over the ${Math.round(max / 1048576)} MiB limit (DFA_DICOM_MAX_DATASET_MB)`, { limit: 'dataset' });
      if (!this.dataBuf) this.dataBuf = this.dataBuffer(Math.min(Math.max(this.lastDataLen, p.length), max));
      if (this.dataLen + p.length > this.dataBuf.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.min(Math.max(2 * this.dataBuf.length, this.dataLen + p.length), max));
        this.dataBuf.copy(bigger, 0, 0, this.dataLen);
        this.dataBuf = bigger;
      }
      p.copy(this.dataBuf, this.dataLen);
      this.dataLen += p.length;
    }
    if (!isLast) return;
    const dataset = (this.dataBuf ?? Buffer.alloc(0)).subarray(0, this.dataLen);
    // Size the next buffer like this data set: a series' instances are usually all the same size.
    this.lastDataLen = Math.max(this.dataLen, 1024);
    this.dataBuf = undefined;
    this.dataLen = 0;
    const { command } = this.current;
    this.current = undefined;
    this.dispatch({ contextId, command, dataset });
  }

  /** Memory for a data set: the spare if it is large enough, else a new buffer of its own (never Node's shared pool, so it can be given back whole). */
  private dataBuffer(size: number): Buffer {
    const s = this.spare;
    if (s && s.length >= size) {
      this.spare = undefined;
      return s;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  /** A data set's handler is done with it: keep its memory for the next one (up to 64 MiB). */
  private giveBack(dataset: Buffer | undefined): void {
    if (!dataset || dataset.length === 0 || dataset.byteOffset !== 0 || dataset.buffer.byteLength > 64 << 20) return;
    if (!this.spare || this.spare.length < dataset.buffer.byteLength) this.spare = Buffer.from(dataset.buffer, 0, dataset.buffer.byteLength);
  }

  private dispatch(m: DimseMessage): void {
    const field = m.command.commandField;
    if ((field & 0x8000) !== 0) {
      const id = m.command.messageIdBeingRespondedTo ?? -1;
      const p = this.pending.get(id);
      if (!p) return; // late response to a request we gave up on
      if (statusKind(m.command.status ?? 0) === 'pending') {
        p.onPending?.(m);
        return;
      }
      this.pending.delete(id);
      if (this.pending.size === 0) this.socket.setTimeout(this.timeouts.idleMs);
      p.resolve(m);
      return;
    }
    if (field === CMD.C_CANCEL_RQ) return; // we finish sub-operations already started; PS3.4 C.4.2.3.1 permits that
    const handler = this.onRequest;
    this.queue = this.queue.then(async () => {
      if (!handler) return;
      try {
        await handler(m, this);
      } catch {
        this.abort('request handler failed');
        return;
      }
      if (this.reuseDatasets) this.giveBack(m.dataset);
    });
  }
}

/** PS3.8 D.1: 0 means no limit; otherwise at least one byte of data must fit a P-DATA-TF. */
export const peerMaxPduOk = (n: number): boolean => n === 0 || n >= MIN_PEER_MAX_PDU;
