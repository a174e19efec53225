/**
 * TlsSettings from DFA_TLS_* (README "DICOM over TLS"): the PEM files are read and checked once at
 * start-up, so a wrong path, a key that does not match its certificate, a wrong key password or an
 * expired certificate of ours stops `dfa` with exit 2 and the setting to fix, not at the first association.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { TlsSettings } from './dimse/tls.ts';

function readPem(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DfaError('CONFIG_INVALID', `${setting}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** Our own certificate must be valid now: a peer would refuse it anyway, with a vaguer message. */
export function checkOwnCertificate(pem: Buffer, path: string, now = new Date()): void {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch (e) {
    throw new DfaError('CONFIG_INVALID', `DFA_TLS_CERT: ${path} is not a PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  const subject = x.subject.replace(/\n/g, ', ');
  if (new Date(x.validTo) < now) throw new DfaError('CONFIG_INVALID', `DFA_TLS_CERT: our certificate '${subject}' (${path}) expired on ${x.validTo}: renew it`);
  if (new Date(x.validFrom) > now) throw new DfaError('CONFIG_INVALID', `DFA_TLS_CERT: our certificate '${subject}' (${path}) is not valid before ${x.validFrom}: check the clock`);
}

export function tlsFromConfig(config: Config): TlsSettings {
  const certPath = config.DFA_TLS_CERT;
  const keyPath = config.DFA_TLS_KEY;
  const cert = certPath ? readPem('DFA_TLS_CERT', certPath) : undefined;
  const key = keyPath ? readPem('DFA_TLS_KEY', keyPath) : undefined;
  const ca = config.DFA_TLS_CA?.map((p) => readPem('DFA_TLS_CA', p));
  if (cert && certPath) checkOwnCertificate(cert, certPath);
  const settings: TlsSettings = {
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(config.DFA_TLS_KEY_PASSWORD ? { passphrase: config.DFA_TLS_KEY_PASSWORD } : {}),
    ...(ca ? { ca } : {}),
    verifyPeer: config.DFA_TLS_VERIFY_PEER,
    checkHostname: config.DFA_TLS_CHECK_HOSTNAME,
    requireClientCert: config.DFA_SCP_TLS_REQUIRE_CLIENT_CERT,
    minVersion: config.DFA_TLS_MIN_VERSION,
    source: { cert: 'DFA_TLS_CERT', ca: 'DFA_TLS_CA' },
  };
  try {
    // Parses every PEM and pairs the key with the certificate, as a handshake would.
    createSecureContext({ cert: settings.cert, key: settings.key, passphrase: settings.passphrase, ca: ca ? [...ca] : undefined });
  } catch (e) {
    const msg = (e as Error).message;
    const why = /key values mismatch/i.test(msg) ? 'the private key does not belong to the certificate'
      : /bad decrypt|bad password|interrupted or cancelled/i.test(msg) ? 'the private key is encrypted and DFA_TLS_KEY_PASSWORD is missing or wrong'
        : msg;
    throw new DfaError('CONFIG_INVALID', `DFA_TLS_CERT / DFA_TLS_KEY / DFA_TLS_CA: ${why}`, { cause: e });
  }
  return settings;
}
