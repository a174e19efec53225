/**
 * DICOM over TLS (PS3.15 B.1, the Basic TLS Secure Transport Connection Profile; B.9 / B.10, the
 * BCP 195 profiles): TLS 1.2 at least, the BCP 195 (RFC 9325) cipher suites, certificates of both
 * sides checked against the configured CAs. Node's TLS errors become DfaErrors that say which side
 * refused which certificate and why (expired, unknown CA, wrong host, no certificate, not TLS).
 */
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket, type TlsOptions } from 'node:tls';
import { isIP } from 'node:net';
import { DfaError } from '../../core/errors.ts';

export interface TlsSettings {
  /** PEM certificate (chain) we present: as SCP always, as SCU when the peer asks for one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** PEM certificates of the CAs trusted for the peer's certificate; unset: Node's bundled roots. */
  readonly ca?: readonly (string | Buffer)[];
  /** SCU: refuse a server certificate that does not verify (default true). */
  readonly verifyPeer?: boolean;
  /** SCU: the server certificate must name the host we dial (subjectAltName; default true). */
  readonly checkHostname?: boolean;
  /** SCP: mutual TLS, a client without a certificate signed by `ca` is refused (default true). */
  readonly requireClientCert?: boolean;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Where the settings came from, quoted in errors (e.g. "DFA_TLS_CA"). */
  readonly source?: { readonly cert?: string; readonly ca?: string };
}

/**
 * PS3.15 B.9 (BCP 195 profile) names TLS_{EC,}DHE_RSA_WITH_AES_{128,256}_GCM_SHA{256,384}; RFC 9325
 * 4.2 adds the ECDSA variants. TLS 1.3 suites (RFC 8446 9.1) are listed explicitly, else Node's defaults apply.
 * AES-128 first: as strong as BCP 195 asks, and less CPU per byte than AES-256 for a 150 MB C-GET.
 */
export const BCP195_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
].join(':');

const base = (s: TlsSettings) => ({
  ...(s.cert !== undefined ? { cert: s.cert } : {}),
  ...(s.key !== undefined ? { key: s.key } : {}),
  ...(s.passphrase !== undefined ? { passphrase: s.passphrase } : {}),
  ...(s.ca !== undefined ? { ca: [...s.ca] } : {}),
  minVersion: s.minVersion ?? 'TLSv1.2', // PS3.15 B.9: no TLS below 1.2
  ciphers: BCP195_CIPHERS,
});

/**
 * Options for our SCP's tls.createServer. With mutual TLS the client's certificate is requested and
 * checked by server.ts right after the handshake, before any DICOM byte is read (`clientRefusal`):
 * Node would close such a connection itself, but without telling us who called or why.
 */
export function serverTlsOptions(s: TlsSettings, handshakeTimeoutMs: number): TlsOptions {
  return { ...base(s), requestCert: s.requireClientCert !== false, rejectUnauthorized: false, honorCipherOrder: true, dhparam: 'auto', handshakeTimeout: handshakeTimeoutMs };
}

/** Why our SCP refuses this client (undefined: it may talk to us), from its verified certificate. */
export function clientRefusal(socket: TLSSocket, s: TlsSettings): string | undefined {
  if (s.requireClientCert === false || socket.authorized) return undefined;
  const c = socket.getPeerCertificate();
  if (!c || Object.keys(c).length === 0) return 'the client sent no certificate and this SCP requires one (DFA_SCP_TLS_REQUIRE_CLIENT_CERT)';
  const code = String(socket.authorizationError ?? 'UNKNOWN');
  return `the client's certificate ${describe(c)} was refused: ${certificateProblem(code)} (${code}); it must be signed by a CA in ${s.source?.ca ?? 'DFA_TLS_CA'} and be valid now`;
}

const dn = (x: object | undefined) => (x ? Object.entries(x).map(([k, v]) => `${k}=${String(v)}`).join(', ') : 'unknown');
const describe = (c: PeerCertificate) => `'${dn(c.subject)}' (issued by '${dn(c.issuer)}', valid ${c.valid_from} to ${c.valid_to})`;

/** Why a certificate did not verify (OpenSSL X509_V_ERR_* as Node reports them in err.code). */
export function certificateProblem(code: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED': return 'its certificate has expired';
    case 'CERT_NOT_YET_VALID': return 'its certificate is not valid yet (check both clocks)';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return 'its certificate is not signed by a CA we trust';
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return 'its certificate does not name the host we connected to (subjectAltName)';
    case 'CERT_REVOKED': return 'its certificate has been revoked';
    case 'INVALID_PURPOSE': return 'its certificate is not meant for this use (extendedKeyUsage)';
    default: return `its certificate did not verify (${code})`;
  }
}

/**
 * What a TLS failure reported by the socket means, with the setting to look at. Matched on the
 * OpenSSL reason text ("tlsv1 alert unknown ca", "ssl/tls alert certificate expired"): the Node
 * codes derived from it differ between OpenSSL versions (ERR_SSL_SSLV3_… / ERR_SSL_SSL/TLS_…).
 */
export function tlsFailureReason(e: NodeJS.ErrnoException & { reason?: string }): string {
  const code = e.code ?? '';
  const t = `${code} ${e.reason ?? ''} ${e.message}`.toLowerCase().replace(/_/g, ' ');
  if (/alert certificate expired/.test(t)) return 'the peer refused our certificate: it has expired (renew DFA_TLS_CERT)';
  if (/alert (unknown ca|bad certificate|certificate unknown|unsupported certificate|decrypt error)/.test(t)) {
    return 'the peer refused our certificate: it does not trust the CA that signed it (DFA_TLS_CERT)';
  }
  if (/alert certificate revoked/.test(t)) return 'the peer refused our certificate: it has been revoked (DFA_TLS_CERT)';
  if (/alert certificate required/.test(t)) return 'the peer requires a client certificate and we sent none (set DFA_TLS_CERT and DFA_TLS_KEY)';
  if (/alert handshake failure|no shared cipher/.test(t)) {
    return 'the peer refused the TLS handshake: no common cipher suite, or it requires a client certificate (DFA_TLS_CERT / DFA_TLS_KEY)';
  }
  if (/alert protocol version|unsupported protocol|no protocols available/.test(t)) {
    return 'no common TLS version (we require TLS 1.2 or later, PS3.15 B.9; see DFA_TLS_MIN_VERSION)';
  }
  if (/wrong version number|packet length too long|http request|record layer failure/.test(t)) {
    return 'the peer does not speak TLS on this port (plain DICOM?): use its TLS port, or turn TLS off for this peer';
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the peer closed the connection during the TLS handshake (not TLS on this port, or it refused our certificate)';
  if (code === 'ECONNREFUSED') return 'connection refused (is it running and listening on this port?)';
  return e.reason ?? e.message;
}

/** Is this socket error a TLS-level refusal (as opposed to a plain network fault)? */
export function isTlsFailure(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

/**
 * Open a TLS connection as SCU. Verification is ours, after the handshake and before any byte of
 * DICOM is sent: Node computes `authorized` (chain, dates, host name) as it would with
 * rejectUnauthorized, and this way the refusal can quote the certificate's subject and dates.
 */
export function connectTls(o: { host: string; port: number; peerName: string; tls: TlsSettings; timeoutMs: number }): Promise<TLSSocket> {
  const s = o.tls;
  const peer = `${o.host}:${o.port}`;
  const opts: ConnectionOptions = {
    ...base(s), host: o.host, port: o.port, rejectUnauthorized: false,
    ...(isIP(o.host) === 0 ? { servername: o.host } : {}),
    ...(s.checkHostname === false ? { checkServerIdentity: () => undefined } : {}),
  };
  return new Promise<TLSSocket>((resolve, reject) => {
    // As connect.ts does for plain TCP: decrypted data lands in one reused buffer (the association
    // copies it out), not a fresh 16 KiB Buffer per TLS record. Measured on a 512x512x300 C-GET from
    // Orthanc: garbage collection 380 -> ~30 ms per study.
    const readBuf = Buffer.allocUnsafe(256 * 1024);
    const onread = { buffer: readBuf, callback: (n: number, buf: Uint8Array) => {
      socket.emit('data', Buffer.from(buf.buffer, buf.byteOffset, n));
      return true;
    } };
    // tls.connect documents `onread` (Node docs, tls.connect options); @types/node leaves it out.
    const socket = tlsConnect({ ...opts, onread } as ConnectionOptions);
    socket.setNoDelay(true);
    const fail = (why: string, cause?: unknown, code: 'DICOM_TLS_FAILED' | 'DICOM_CONNECTION_FAILED' = 'DICOM_TLS_FAILED') => {
      clearTimeout(t);
      socket.destroy();
      const msg = code === 'DICOM_TLS_FAILED' ? `TLS connection to ${o.peerName} at ${peer} refused: ${why}` : `cannot reach ${o.peerName} at ${peer}: ${why}`;
      reject(new DfaError(code, msg, { cause, details: { peer } }));
    };
    const t = setTimeout(() => {
      socket.destroy();
      reject(new DfaError('DICOM_TIMEOUT', `no TLS connection to ${o.peerName} at ${peer} within ${o.timeoutMs} ms (check the host, port and firewalls; is TLS enabled on that port?)`, { details: { peer } }));
    }, o.timeoutMs);
    socket.once('secureConnect', () => {
      if (s.verifyPeer !== false && !socket.authorized) {
        const code = String(socket.authorizationError ?? 'UNKNOWN');
        const cert = describe(socket.getPeerCertificate());
        const hint = code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `connect by a name the certificate holds, or set DFA_TLS_CHECK_HOSTNAME=false`
          : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID' ? 'the peer must renew its certificate'
            : `add the CA that signed it to ${s.source?.ca ?? 'DFA_TLS_CA'}`;
        fail(`${certificateProblem(code)}: ${cert}; ${hint}`, Object.assign(new Error(code), { code }));
        return;
      }
      clearTimeout(t);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => fail(tlsFailureReason(e), e, isTlsFailure(e) || e.code === 'ECONNRESET' ? 'DICOM_TLS_FAILED' : 'DICOM_CONNECTION_FAILED'));
  });
}
