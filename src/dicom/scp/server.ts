/**
 * Our DICOM node as association acceptor (PS3.8 9.1.2): C-ECHO always; C-STORE, C-FIND, C-MOVE and
 * C-GET when a handler is given. Binds the host it is told (127.0.0.1 by default, never all
 * interfaces by accident) and rejects calling AE titles not on its allow-list, saying what to configure.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { Association, DEFAULT_TIMEOUTS, type DimseMessage, type DimseTimeouts } from '../dimse/association.ts';
import { CMD } from '../dimse/command.ts';
import type { DimseLimits } from '../dimse/limits.ts';
import { decodeIdentifier, encodeIdentifier, transcodeLittleEndian, type Identifier } from '../dimse/dataset.ts';
import { encodeAssociateAc, encodeAssociateRj, type AcceptedContext, type AssociateRj, type ProposedContext } from '../dimse/pdu.ts';
import { PeerAllowList, isLoopbackHost, type AllowedPeer } from './peers.ts';
import { storeResponder, type InstanceHandler, type SubOperations } from '../dimse/scu.ts';
import { tlsListener } from './tls-listener.ts';
import type { TlsSettings } from '../dimse/tls.ts';
import { ACCEPTED_TRANSFER_SYNTAXES, STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE, TS, VERIFICATION } from '../dimse/uids.ts';

export interface RequestContext {
  readonly callingAet: string;
  readonly remoteAddress: string;
  readonly messageId: number;
}
/** Final status of a C-MOVE / C-GET as the SCP reports it (PS3.4 C.4.2.1.5). */
export interface RetrieveReport extends SubOperations {
  readonly status: number;
  readonly errorComment?: string;
}
/** Sends one instance as a C-STORE sub-operation; resolves with the peer's status. */
export type SubOperationSender = (i: { sopClassUid: string; sopInstanceUid: string; transferSyntax: string; dataset: Buffer }) => Promise<number>;

export interface ScpHandlers {
  readonly onStore?: InstanceHandler;
  readonly onFind?: (identifier: Identifier, ctx: RequestContext) => Promise<Identifier[]>;
  readonly onMove?: (identifier: Identifier, destinationAet: string, ctx: RequestContext, progress: (s: SubOperations) => void) => Promise<RetrieveReport>;
  readonly onGet?: (identifier: Identifier, ctx: RequestContext, send: SubOperationSender, progress: (s: SubOperations) => void) => Promise<RetrieveReport>;
}

export interface DicomServerOptions {
  readonly aet: string;
  readonly port: number; // 0: any free port
  readonly host?: string; // default 127.0.0.1
  /** Calling AE titles accepted; undefined accepts any. */
  readonly allowedAets?: readonly string[];
  /**
   * Calling AE titles bound to the hosts they may call from (DFA_SCP_ALLOWED_PEERS). Required when
   * `host` is not a loopback address: an SCP open to the network without one refuses to start.
   */
  readonly allowedPeers?: readonly AllowedPeer[];
  /** Concurrent associations (DFA_SCP_MAX_ASSOCIATIONS); more are rejected as transient (PS3.8 9.3.4). */
  readonly maxAssociations?: number;
  /** What a peer may make us hold; defaults in dimse/limits.ts. */
  readonly limits?: Partial<DimseLimits>;
  readonly handlers: ScpHandlers;
  readonly log: Logger;
  readonly timeouts?: Partial<DimseTimeouts>;
  /** Per-AE permissions (like Orthanc's AllowFind/AllowMove/AllowGet); default: everything. A refused
   * service has its presentation context rejected (PS3.8 9.3.3.2 result 1, user rejection). */
  readonly permits?: (callingAet: string, service: 'find' | 'move' | 'get' | 'store') => boolean;
  /** Transcoder for C-GET sub-operations whose transfer syntax the requestor did not accept
   * (default: between implicit and explicit VR little endian). */
  readonly transcode?: (dataset: Buffer, from: string, to: string) => Buffer | undefined;
  /** The handlers keep no reference to a request's data set once they settle: its memory is reused
   * for the next one on the association (Association.reuseDatasets). */
  readonly transientDatasets?: boolean;
  /** DICOM over TLS (PS3.15 B.1): our certificate, and mutual TLS unless `requireClientCert` is
   * false. On `port` itself, or with `tlsPort` on that second port beside plain `port`. Unset: plain TCP. */
  readonly tls?: TlsSettings;
  readonly tlsPort?: number; // 0: any free port
}

const QR_TS = [TS.EXPLICIT_LE, TS.IMPLICIT_LE] as readonly string[];
const isStorage = (uid: string) => uid.startsWith('1.2.840.10008.5.1.4.1.1.');
function serviceOf(abstractSyntax: string): 'echo' | 'find' | 'move' | 'get' | 'store' | 'other' {
  if (abstractSyntax === VERIFICATION) return 'echo';
  if (abstractSyntax === STUDY_ROOT_FIND) return 'find';
  if (abstractSyntax === STUDY_ROOT_MOVE) return 'move';
  if (abstractSyntax === STUDY_ROOT_GET) return 'get';
  return isStorage(abstractSyntax) ? 'store' : 'other';
}

/**
 * Read an accepted connection into one reused buffer, as connect.ts does with `onread` for outgoing
 * ones: Node has no `onread` option for accepted sockets, so this sets the same two internal fields
 * the option sets (Node 24 net.js), and falls back to ordinary reads if they are not there. Without
 * it every 64 KiB read allocates, and a 150 MB C-MOVE spent ~150 ms in the garbage collector.
 */
function reuseReadBuffer(s: Socket): void {
  const syms = Object.getOwnPropertySymbols(s);
  const kBuffer = syms.find((x) => x.description === 'kBuffer');
  const kBufferCb = syms.find((x) => x.description === 'kBufferCb');
  const handle = (s as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (!kBuffer || !kBufferCb || typeof handle?.useUserBuffer !== 'function') return;
  const buf = Buffer.allocUnsafe(256 * 1024);
  const fields = s as unknown as Record<symbol, unknown>;
  fields[kBuffer] = buf;
  fields[kBufferCb] = (n: number, b: Uint8Array) => {
    s.emit('data', Buffer.from(b.buffer, b.byteOffset, n));
    return true;
  };
  handle.useUserBuffer(buf);
}

export class DicomServer {
  readonly opts: DicomServerOptions;
  private server?: Server;
  private readonly open = new Set<Association>();
  port = 0;
  host: string;
  /** Associations accepted since start (for logs, tests and the benchmark). */
  accepted = 0;
  /** Associations aborted because the peer broke the protocol or a limit (each logged once). */
  protocolAborts = 0;
  private peers?: PeerAllowList;

  constructor(opts: DicomServerOptions) {
    this.opts = opts;
    this.host = opts.host ?? '127.0.0.1';
  }

  async start(): Promise<this> {
    if (!isLoopbackHost(this.host) && !this.opts.allowedPeers?.length) {
      throw new DfaError('CONFIG_INVALID', `DICOM SCP '${this.opts.aet}' would listen on ${this.host}, which is not loopback, with no allow-list: set DFA_SCP_ALLOWED_PEERS (AET@host,...) or DFA_SCP_HOST=127.0.0.1`);
    }
    if (this.opts.allowedPeers?.length) this.peers = await PeerAllowList.resolve(this.opts.allowedPeers);
    const tls = this.opts.tls;
    const extraTls = tls !== undefined && this.opts.tlsPort !== undefined;
    const server = tls && !extraTls ? this.tlsServer(tls) : createServer({ noDelay: true, pauseOnConnect: true }, (s) => {
      reuseReadBuffer(s);
      s.resume();
      this.onConnection(s);
    });
    this.port = await this.listen(server, this.opts.port, 'DFA_SCP_PORT');
    this.server = server;
    if (extraTls) {
      const t = this.tlsServer(tls);
      try {
        this.tlsPort = await this.listen(t, this.opts.tlsPort ?? 0, 'DFA_SCP_TLS_PORT');
      } catch (e) {
        await this.close();
        throw e;
      }
      this.tlsListener = t;
    }
    this.opts.log.debug('DICOM SCP listening', { aet: this.opts.aet, host: this.host, port: this.port, tls: tls !== undefined && !extraTls, ...(extraTls ? { tlsPort: this.tlsPort } : {}) });
    return this;
  }

  private async listen(server: Server, port: number, setting: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new DfaError('CONFIG_INVALID',
        `DICOM SCP '${this.opts.aet}' cannot listen on ${this.host}:${port}: ${e.code === 'EADDRINUSE' ? `port already in use (set ${setting} to a free port)` : e.message}`, { cause: e })));
      server.listen(port, this.host, () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /** With `tlsPort`: the port the TLS listener got (0 until started or without one). */
  tlsPort = 0;
  private tlsListener?: Server;

  /** TLS handshakes refused since start (for logs and tests). */
  tlsRefused = 0;

  private tlsServer(tls: TlsSettings): Server {
    return tlsListener({
      tls, handshakeTimeoutMs: this.opts.timeouts?.associationMs ?? DEFAULT_TIMEOUTS.associationMs, log: this.opts.log,
      onRefused: () => this.tlsRefused++,
      onSecure: (s) => {
        reuseReadBuffer(s); // works on the TLS handle too: decrypted records land in one buffer
        this.onConnection(s);
      },
    });
  }

  /** Connections open now (a destroyed peer's is gone; a half-closed one would still count). */
  get connections(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    for (const a of this.open) a.abort('server closing');
    const listeners = [this.server, this.tlsListener];
    this.server = undefined;
    this.tlsListener = undefined;
    for (const s of listeners) if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private onConnection(socket: Socket): void {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const max = this.opts.maxAssociations ?? 16;
    // Connections that never associate count too; far over the limit they are not even read.
    if (this.open.size >= 2 * max) {
      socket.destroy();
      return;
    }
    const overLimit = this.open.size >= max;
    const a = new Association(socket, peer, { ...DEFAULT_TIMEOUTS, ...this.opts.timeouts }, this.opts.limits);
    a.reuseDatasets = this.opts.transientDatasets === true;
    a.onProtocolError = (reason) => {
      this.protocolAborts++;
      this.opts.log.warn(`aborted association: ${reason}`, { peer, callingAet: a.callingAet || undefined });
    };
    this.open.add(a);
    void a.closed.then(() => this.open.delete(a));
    // PS3.8 9.1.5 ARTIM: a connection that sends no A-ASSOCIATE-RQ in time is closed.
    const t = setTimeout(() => a.abort('no A-ASSOCIATE-RQ'), a.timeouts.associationMs);
    t.unref();
    void a.closed.then(() => clearTimeout(t));
    a.onAssociateRq = (rq) => {
      clearTimeout(t);
      const log = this.opts.log.child({ callingAet: rq.callingAet, peer });
      const reject = (why: string, rj: AssociateRj) => {
        log.warn(`rejected association: ${why}`);
        a.rejectAndClose(encodeAssociateRj(rj));
      };
      if (overLimit) return reject(`${max} associations already open (DFA_SCP_MAX_ASSOCIATIONS)`, { result: 2, source: 3, reason: 2 });
      if (rq.calledAet !== this.opts.aet) {
        return reject(`called AE '${rq.calledAet}' is not ours; the peer must call AE '${this.opts.aet}'`, { result: 1, source: 1, reason: 7 });
      }
      const allowed = this.opts.allowedAets;
      if (allowed && !allowed.includes(rq.callingAet)) {
        return reject(`calling AE '${rq.callingAet}' is not on the allow-list [${allowed.join(',')}]; to accept it add it to DFA_SCP_ALLOWED_AETS`, { result: 1, source: 1, reason: 3 });
      }
      if (this.peers && !this.peers.allows(rq.callingAet, socket.remoteAddress ?? '')) {
        return reject(`calling AE '${rq.callingAet}' from ${socket.remoteAddress ?? '?'} is not on DFA_SCP_ALLOWED_PEERS [${this.peers.describe()}]; to accept it add '${rq.callingAet}@${socket.remoteAddress ?? '?'}'`, { result: 1, source: 1, reason: 3 });
      }
      if (rq.maxPduLength !== 0 && rq.maxPduLength < 7) {
        return reject(`peer's maximum PDU length ${rq.maxPduLength} is below 7 (PS3.8 D.1)`, { result: 1, source: 1, reason: 1 });
      }
      const accepted = rq.proposed.map((p) => this.negotiate(p, rq.callingAet));
      for (const c of accepted) if (c.result === 1) log.warn(`refused ${serviceOf(rq.proposed.find((p) => p.id === c.id)?.abstractSyntax ?? '')} to calling AE '${rq.callingAet}' (not permitted for this AE)`);
      a.callingAet = rq.callingAet;
      a.calledAet = rq.calledAet;
      a.setNegotiated(new Map(rq.proposed.map((p) => [p.id, p.abstractSyntax])), accepted, rq.maxPduLength);
      a.roles = rq.roles.filter((r) => isStorage(r.sopClassUid));
      a.onRequest = (m, assoc) => this.onRequest(m, assoc, log);
      this.accepted++;
      socket.write(encodeAssociateAc({ calledAet: rq.calledAet, callingAet: rq.callingAet, contexts: accepted, maxPduLength: a.limits.maxPdataLength, roles: a.roles }));
      log.debug('association accepted', { contexts: a.contexts.size });
    };
  }

  /** PS3.8 9.3.3.2 result: 0 accepted, 3 abstract syntax not supported, 4 transfer syntaxes not supported. */
  private negotiate(p: ProposedContext, callingAet: string): AcceptedContext {
    const h = this.opts.handlers;
    const as = p.abstractSyntax;
    const service = serviceOf(as);
    if (service !== 'echo' && service !== 'other' && this.opts.permits && !this.opts.permits(callingAet, service)) {
      return { id: p.id, result: 1, transferSyntax: p.transferSyntaxes[0] ?? TS.IMPLICIT_LE };
    }
    let tsOk: readonly string[] | undefined;
    if (as === VERIFICATION) tsOk = QR_TS;
    else if (as === STUDY_ROOT_FIND && h.onFind) tsOk = QR_TS;
    else if (as === STUDY_ROOT_MOVE && h.onMove) tsOk = QR_TS;
    else if (as === STUDY_ROOT_GET && h.onGet) tsOk = QR_TS;
    else if (isStorage(as) && (h.onStore || h.onGet)) tsOk = ACCEPTED_TRANSFER_SYNTAXES;
    if (!tsOk) return { id: p.id, result: 3, transferSyntax: p.transferSyntaxes[0] ?? TS.IMPLICIT_LE };
    const ts = p.transferSyntaxes.find((t) => tsOk.includes(t));
    return ts ? { id: p.id, result: 0, transferSyntax: ts } : { id: p.id, result: 4, transferSyntax: p.transferSyntaxes[0] ?? TS.IMPLICIT_LE };
  }

  private async onRequest(m: DimseMessage, a: Association, log: Logger): Promise<void> {
    const c = m.command;
    const ctx: RequestContext = { callingAet: a.callingAet, remoteAddress: a.peer, messageId: c.messageId ?? 0 };
    const ts = a.contexts.get(m.contextId)?.transferSyntax ?? TS.IMPLICIT_LE;
    const reply = (field: number, status: number, extra: Partial<Parameters<Association['send']>[1]> = {}, dataset?: Buffer) => {
      if (a.isOpen) a.send(m.contextId, { commandField: field, messageIdBeingRespondedTo: c.messageId, affectedSopClassUid: c.affectedSopClassUid, status, hasDataset: dataset !== undefined, ...extra }, dataset);
    };
    const h = this.opts.handlers;
    switch (c.commandField) {
      case CMD.C_ECHO_RQ:
        reply(CMD.C_ECHO_RSP, 0);
        return;
      case CMD.C_STORE_RQ:
        if (!h.onStore) return reply(CMD.C_STORE_RSP, 0x0122);
        await storeResponder(m, a, async (i) => {
          const status = await h.onStore!(i);
          log.debug('C-STORE received', { sopInstanceUid: i.sopInstanceUid, status });
          return status;
        });
        return;
      case CMD.C_FIND_RQ: {
        if (!h.onFind || !m.dataset) return reply(CMD.C_FIND_RSP, 0x0122);
        try {
          const matches = await h.onFind(decodeIdentifier(m.dataset, ts), ctx);
          for (const match of matches) reply(CMD.C_FIND_RSP, 0xff00, {}, encodeIdentifier(match, ts));
          reply(CMD.C_FIND_RSP, 0);
        } catch (e) {
          log.warn('C-FIND failed', { error: (e as Error).message });
          reply(CMD.C_FIND_RSP, 0xc000, { errorComment: (e as Error).message.slice(0, 64) });
        }
        return;
      }
      case CMD.C_MOVE_RQ: {
        if (!h.onMove || !m.dataset) return reply(CMD.C_MOVE_RSP, 0x0122);
        const r = await this.safeRetrieve(log, 'C-MOVE', () =>
          h.onMove!(decodeIdentifier(m.dataset!, ts), c.moveDestination ?? '', ctx, (s) => reply(CMD.C_MOVE_RSP, 0xff00, s)));
        reply(CMD.C_MOVE_RSP, r.status, { completed: r.completed, failed: r.failed, warning: r.warning, ...(r.status === 0 ? {} : { remaining: r.remaining }), ...(r.errorComment ? { errorComment: r.errorComment } : {}) });
        return;
      }
      case CMD.C_GET_RQ: {
        if (!h.onGet || !m.dataset) return reply(CMD.C_GET_RSP, 0x0122);
        const send: SubOperationSender = async (i) => this.sendSubOperation(a, i);
        const r = await this.safeRetrieve(log, 'C-GET', () =>
          h.onGet!(decodeIdentifier(m.dataset!, ts), ctx, send, (s) => reply(CMD.C_GET_RSP, 0xff00, s)));
        reply(CMD.C_GET_RSP, r.status, { completed: r.completed, failed: r.failed, warning: r.warning, ...(r.status === 0 ? {} : { remaining: r.remaining }), ...(r.errorComment ? { errorComment: r.errorComment } : {}) });
        return;
      }
      default:
        reply(c.commandField | 0x8000, 0x0211); // PS3.7 C.4: unrecognized operation
    }
  }

  private async safeRetrieve(log: Logger, what: string, fn: () => Promise<RetrieveReport>): Promise<RetrieveReport> {
    try {
      return await fn();
    } catch (e) {
      log.warn(`${what} failed`, { error: (e as Error).message });
      return { status: 0xc000, completed: 0, failed: 0, warning: 0, remaining: 0, errorComment: (e as Error).message.slice(0, 64) };
    }
  }

  /** PS3.4 C.4.3.3: C-GET sub-operations travel as C-STORE requests on the same association. */
  private async sendSubOperation(a: Association, i: { sopClassUid: string; sopInstanceUid: string; transferSyntax: string; dataset: Buffer }): Promise<number> {
    let ctx = a.contextFor(i.sopClassUid, i.transferSyntax);
    let data = i.dataset;
    if (!ctx) {
      const other = a.contextFor(i.sopClassUid);
      const converted = other && (this.opts.transcode ?? transcodeLittleEndian)(i.dataset, i.transferSyntax, other.transferSyntax);
      if (!other || !converted) return 0xa702; // out of resources / unable to perform sub-operation
      ctx = other;
      data = converted;
    }
    const rsp = await a.request(ctx.id, { commandField: CMD.C_STORE_RQ, affectedSopClassUid: i.sopClassUid, affectedSopInstanceUid: i.sopInstanceUid, priority: 0, hasDataset: true }, data, 'C-STORE sub-operation');
    return rsp.command.status ?? 0xc000;
  }
}

