/**
 * Credentials for a DICOMweb server: HTTP Basic (RFC 7617) or a bearer token (RFC 6750).
 * They go into the Authorization header only; they are never logged and never put in an error
 * message. Credentials embedded in the base URL (http://user:pass@host/…) are moved into the
 * header, because fetch refuses URLs that carry credentials.
 */
import { DfaError } from '../../core/errors.ts';

export interface DicomWebCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
}

export interface ResolvedEndpoint {
  /** Base URL without credentials and without a trailing slash. */
  readonly baseUrl: string;
  readonly authorization?: string;
  readonly scheme: 'none' | 'basic' | 'bearer';
}

export function resolveEndpoint(baseUrl: string, creds: DicomWebCredentials): ResolvedEndpoint {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (e) {
    throw new DfaError('CONFIG_INVALID', 'DICOMweb base URL is not a valid URL (DFA_DICOMWEB_URL)', { cause: e });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DfaError('CONFIG_INVALID', `DICOMweb base URL must be http(s), got ${url.protocol} (DFA_DICOMWEB_URL)`);
  }
  let username = creds.username;
  let password = creds.password;
  if (url.username || url.password) {
    username ??= decodeURIComponent(url.username);
    password ??= decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
  }
  const base = url.toString().replace(/\/+$/, '');
  if (creds.token) return { baseUrl: base, authorization: `Bearer ${creds.token}`, scheme: 'bearer' };
  if (username !== undefined && username !== '') {
    // RFC 7617 2.1: user-id must not contain ':'; encode as UTF-8.
    if (username.includes(':')) throw new DfaError('CONFIG_INVALID', 'DICOMweb username must not contain ":" (DFA_DICOMWEB_USERNAME)');
    const basic = Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64');
    return { baseUrl: base, authorization: `Basic ${basic}`, scheme: 'basic' };
  }
  return { baseUrl: base, scheme: 'none' };
}

/** What to tell the operator when the server answers 401/403, by the credentials we sent. */
export function authHint(status: number, scheme: ResolvedEndpoint['scheme']): string {
  if (status === 401) {
    switch (scheme) {
      case 'none':
        return 'the DICOMweb server requires authentication: set DFA_DICOMWEB_USERNAME and DFA_DICOMWEB_PASSWORD (basic) or DFA_DICOMWEB_TOKEN (bearer)';
      case 'basic':
        return 'the DICOMweb server rejected the username/password: check DFA_DICOMWEB_USERNAME and DFA_DICOMWEB_PASSWORD (or use DFA_DICOMWEB_TOKEN)';
      case 'bearer':
        return 'the DICOMweb server rejected the bearer token: check or renew DFA_DICOMWEB_TOKEN';
    }
  }
  return 'the DICOMweb server refused access for these credentials (403): grant this user access, or set other credentials in DFA_DICOMWEB_USERNAME/DFA_DICOMWEB_PASSWORD or DFA_DICOMWEB_TOKEN';
}
