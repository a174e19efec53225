/**
 * Opening an association as the requestor (PS3.8 7.1), with AE-title trouble turned into errors a
 * PACS administrator can act on: which AE title, host and port to register where.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { DfaError } from '../../core/errors.ts';
import { Association, DEFAULT_TIMEOUTS, OUR_MAX_PDU, type DimseTimeouts } from './association.ts';
import type { DimseLimits } from './limits.ts';
import { PDU, decodeAssociate, type ProposedContext, type RoleSelection } from './pdu.ts';
import { connectTls, isTlsFailure, tlsFailureReason, type TlsSettings } from './tls.ts';

export interface PeerOptions {
  /** What the peer may make us hold (data set size...); defaults in limits.ts. */
  readonly limits?: Partial<DimseLimits>;
  readonly host: string;
  readonly port: number;
  /** The peer's AE title (called AE). */
  readonly calledAet: string;
  /** Our AE title (calling AE). */
  readonly callingAet: string;
  readonly timeouts?: Partial<DimseTimeouts>;
  /** Where our SCP listens, quoted in error messages ("register AE 'DFA' at host:port"). */
  readonly ourScp?: { readonly host: string; readonly port: number };
  /** DICOM over TLS to this peer (PS3.15 B.1); unset: plain TCP. */
  readonly tls?: TlsSettings;
}

/** PS3.8 9.3.4: A-ASSOCIATE-RJ result/source/reason in words. */
function rejectionReason(source: number, reason: number): string {
  if (source === 1) {
    switch (reason) {
      case 2: return 'application context name not supported';
      case 3: return 'calling AE title not recognized';
      case 7: return 'called AE title not recognized';
      default: return `rejected by the service user (reason ${reason})`;
    }
  }
  if (source === 2) return reason === 2 ? 'protocol version not supported' : 'rejected by the service provider (ACSE)';
  if (source === 3) return reason === 1 ? 'temporary congestion' : reason === 2 ? 'local limit exceeded' : 'rejected by the service provider (presentation)';
  return `source ${source} reason ${reason}`;
}

export function registerHint(p: PeerOptions): string {
  const where = p.ourScp ? ` at ${p.ourScp.host}:${p.ourScp.port}` : '';
  return `register AE '${p.callingAet}'${where} in the PACS's list of known AEs / modalities (on Orthanc: DicomModalities), or set DFA_AET to an AE title the PACS already knows`;
}

export async function openAssociation(p: PeerOptions, contexts: readonly ProposedContext[], roles: readonly RoleSelection[] = []): Promise<Association> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...p.timeouts };
  const peer = `${p.host}:${p.port}`;
  const socket = p.tls
    ? await connectTls({ host: p.host, port: p.port, peerName: p.calledAet, tls: p.tls, timeoutMs: timeouts.connectMs })
    : await connectTcp(p, timeouts.connectMs);
  // The association reports a close; keep the socket's own error, which says why (a TLS alert).
  let socketError: Error | undefined;
  socket.on('error', (e) => (socketError ??= e));
  const a = new Association(socket, peer, timeouts, p.limits);
  const waiting = a.waitAssociationPdu();
  a.sendAssociateRq({ calledAet: p.calledAet, callingAet: p.callingAet, contexts, maxPduLength: OUR_MAX_PDU, roles });
  let reply;
  try {
    reply = await waiting;
  } catch (e) {
    a.abort('association failed');
    if (p.tls && e instanceof DfaError && e.code === 'DICOM_CONNECTION_FAILED') {
      // TLS 1.3: a server that refuses our certificate does so after our side of the handshake ended.
      const cause = socketError ?? e.cause;
      const why = isTlsFailure(cause) ? tlsFailureReason(cause as NodeJS.ErrnoException)
        : `it closed the TLS connection right after the handshake: it probably refused our certificate (${p.tls.cert ? 'DFA_TLS_CERT expired, or not signed by a CA it trusts' : 'we sent none'}) or requires one; or it does not know AE '${p.callingAet}'`;
      throw new DfaError('DICOM_TLS_FAILED', `TLS connection to ${p.calledAet} at ${peer} refused: ${why}`, { cause: e, details: { peer } });
    }
    if (e instanceof DfaError && e.code === 'DICOM_CONNECTION_FAILED') {
      // Some PACS drop the TCP connection instead of sending A-ASSOCIATE-RJ for an unknown AE.
      throw new DfaError('DICOM_ASSOCIATION_REJECTED',
        `${p.calledAet} at ${peer} closed the connection instead of accepting the association from '${p.callingAet}': check that the PACS's AE title is '${p.calledAet}' (DFA_PACS_AET) and ${registerHint(p)}`,
        { cause: e, details: { peer, callingAet: p.callingAet, calledAet: p.calledAet } });
    }
    throw e;
  }
  if (reply.type === PDU.ASSOCIATE_RJ) {
    const [, result, source, reason] = reply.body;
    const why = rejectionReason(source, reason);
    socket.destroy();
    let hint: string;
    if (source === 1 && reason === 7) hint = `the PACS does not answer to AE title '${p.calledAet}': set DFA_PACS_AET to the PACS's own AE title`;
    else if (source === 1 && reason === 3) hint = registerHint(p);
    else hint = `check that '${p.calledAet}' at ${peer} knows calling AE '${p.callingAet}' (${registerHint(p)})`;
    throw new DfaError('DICOM_ASSOCIATION_REJECTED',
      `${p.calledAet} at ${peer} rejected the association from '${p.callingAet}' (${result === 1 ? 'permanent' : 'transient'}: ${why}): ${hint}`,
      { details: { peer, callingAet: p.callingAet, calledAet: p.calledAet, result, source, reason } });
  }
  if (reply.type !== PDU.ASSOCIATE_AC) {
    a.abort('association aborted');
    throw new DfaError('DICOM_ASSOCIATION_REJECTED', `${p.calledAet} at ${peer} aborted the association from '${p.callingAet}': ${registerHint(p)}`, { details: { peer } });
  }
  try {
    const ac = decodeAssociate(reply.body);
    a.setNegotiated(new Map(contexts.map((c) => [c.id, c.abstractSyntax])), ac.accepted, ac.maxPduLength);
    a.roles = ac.roles;
  } catch (e) {
    // A malformed A-ASSOCIATE-AC (or a max PDU below 7) ends this association only (PS3.8 9.3.8).
    a.protocolAbort(`bad A-ASSOCIATE-AC: ${(e as Error).message}`);
    throw new DfaError('DICOM_ASSOCIATION_REJECTED', `${p.calledAet} at ${peer} answered with a malformed A-ASSOCIATE-AC: ${(e as Error).message}`, { cause: e, details: { peer } });
  }
  return a;
}

function connectTcp(p: PeerOptions, connectMs: number): Promise<Socket> {
  const peer = `${p.host}:${p.port}`;
  return new Promise<Socket>((resolve, reject) => {
    // One reused read buffer instead of a fresh 64 KiB chunk per read: received data is copied out
    // once (association.ts), which keeps the garbage collector out of a large C-GET.
    const readBuf = Buffer.allocUnsafe(256 * 1024);
    const s = tcpConnect({ host: p.host, port: p.port, noDelay: true, onread: { buffer: readBuf, callback: (n: number, buf: Uint8Array) => {
      s.emit('data', Buffer.from(buf.buffer, buf.byteOffset, n));
      return true;
    } } });
    const t = setTimeout(() => {
      s.destroy();
      reject(new DfaError('DICOM_TIMEOUT', `no TCP connection to ${p.calledAet} at ${peer} within ${connectMs} ms (check DFA_PACS_HOST / DFA_PACS_PORT and firewalls)`, { details: { peer } }));
    }, connectMs);
    s.once('connect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      const why = e.code === 'ECONNREFUSED' ? 'connection refused (is the PACS running and listening on this port?)' : e.message;
      reject(new DfaError('DICOM_CONNECTION_FAILED', `cannot reach ${p.calledAet} at ${peer}: ${why}`, { cause: e, details: { peer } }));
    });
  });
}

/** Build presentation contexts with odd ids (PS3.8 9.3.2.2), at most 128. */
export function buildContexts(items: readonly { abstractSyntax: string; transferSyntaxes: readonly string[] }[]): ProposedContext[] {
  if (items.length > 128) throw new DfaError('INTERNAL', `too many presentation contexts (${items.length} > 128)`);
  return items.map((it, i) => ({ id: 2 * i + 1, abstractSyntax: it.abstractSyntax, transferSyntaxes: it.transferSyntaxes }));
}
