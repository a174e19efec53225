/**
 * The listening side of DICOM over TLS (PS3.15 B.1): a TCP listener whose connections go through a
 * TLS handshake and, with mutual TLS, a check of the client's certificate before any DICOM byte is
 * read. Every refusal is logged once with the caller's address and the reason, and counted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../../core/log.ts';
import { clientRefusal, serverTlsOptions, tlsFailureReason, type TlsSettings } from '../dimse/tls.ts';

export interface TlsListenerOptions {
  readonly tls: TlsSettings;
  readonly handshakeTimeoutMs: number;
  readonly log: Logger;
  /** A client that passed the handshake and the certificate check. */
  readonly onSecure: (s: TLSSocket) => void;
  readonly onRefused: () => void;
}

export function tlsListener(o: TlsListenerOptions): Server {
  const tlsServer = createTlsServer(serverTlsOptions(o.tls, o.handshakeTimeoutMs), (s: TLSSocket) => {
    const peer = `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
    const refusal = clientRefusal(s, o.tls);
    if (refusal) {
      o.onRefused();
      o.log.warn(`refused TLS connection from ${peer}: ${refusal}`, { peer, code: s.authorizationError });
      s.destroy();
      return;
    }
    o.log.debug('TLS connection', { peer, protocol: s.getProtocol(), cipher: s.getCipher().standardName });
    o.onSecure(s);
  });
  // A failed handshake reaches 'tlsClientError' after Node closed the socket, its address gone: the
  // plain listener hands each connection to the TLS server (tls docs: "emit('connection') to inject
  // connections") inside an async context that remembers who called.
  const caller = new AsyncLocalStorage<string>();
  tlsServer.on('tlsClientError', (e: NodeJS.ErrnoException) => {
    o.onRefused();
    const peer = caller.getStore() ?? 'an unknown peer';
    const why = e.code === 'ERR_SSL_HTTP_REQUEST' || e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? 'the client does not speak TLS (plain DICOM sent to a TLS port)'
      : e.code === 'ECONNRESET' ? 'the client closed the connection during the TLS handshake (does it trust the CA of our certificate?)'
        : tlsFailureReason(e);
    o.log.warn(`refused TLS connection from ${peer}: ${why}`, { peer, code: e.code });
  });
  return createServer({ noDelay: true }, (raw) => caller.run(`${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`, () => tlsServer.emit('connection', raw)));
}
