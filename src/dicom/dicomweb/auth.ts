/**
 * Credentials for a DICOMweb server: HTTP Basic (RFC 7617), a bearer token (RFC 6750), or — the
 * FHIR client's modes — a token from an OAuth2 token endpoint (client credentials, SMART Backend
 * Services; src/net/http-auth.ts). They go into the Authorization header only, and only to the
 * configured base URL (the client never follows a URL a server hands it); they are never logged
 * and never put in an error message. Credentials embedded in the base URL (http://user:pass@host/…)
 * are moved into the header, because fetch refuses URLs that carry credentials.
 */
import type { Config } from '../../core/config.ts';
import { DfaError } from '../../core/errors.ts';
import { basicAuth, bearerAuth, clientCredentialsAuth, noAuth, smartBackendAuth, type HttpAuth, type HttpAuthMode } from '../../net/http-auth.ts';

export interface DicomWebCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  /** Any auth strategy (client credentials, SMART backend…); wins over username/password/token. */
  readonly auth?: HttpAuth;
}

export interface ResolvedEndpoint {
  /** Base URL without credentials and without a trailing slash. */
  readonly baseUrl: string;
  readonly auth: HttpAuth;
  readonly scheme: HttpAuthMode;
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
  if (creds.auth) return { baseUrl: base, auth: creds.auth, scheme: creds.auth.mode };
  if (creds.token) return { baseUrl: base, auth: bearerAuth(creds.token), scheme: 'bearer' };
  if (username !== undefined && username !== '') {
    // RFC 7617 2.1: user-id must not contain ':'; encoded as UTF-8.
    if (username.includes(':')) throw new DfaError('CONFIG_INVALID', 'DICOMweb username must not contain ":" (DFA_DICOMWEB_USERNAME)');
    return { baseUrl: base, auth: basicAuth(username, password ?? ''), scheme: 'basic' };
  }
  return { baseUrl: base, auth: noAuth(), scheme: 'none' };
}

/**
 * The token-endpoint modes of DFA_DICOMWEB_AUTH (client-credentials, smart-backend), with their
 * DFA_DICOMWEB_TOKEN_URL / _CLIENT_ID / _CLIENT_SECRET / _PRIVATE_KEY / _SCOPE; undefined for
 * the static modes, which resolveEndpoint builds from DFA_DICOMWEB_USERNAME/PASSWORD/TOKEN.
 */
export function dicomWebAuthFromConfig(c: Config): HttpAuth | undefined {
  const need = (name: keyof Config): string => {
    const v = c[name];
    if (typeof v !== 'string' || !v) throw new DfaError('CONFIG_INVALID', `DFA_DICOMWEB_AUTH=${c.DFA_DICOMWEB_AUTH} needs ${name}`);
    return v;
  };
  const common = { timeoutMs: c.DFA_FHIR_TIMEOUT_MS, errorCode: 'DICOMWEB_AUTH_FAILED' as const };
  switch (c.DFA_DICOMWEB_AUTH) {
    case undefined:
    case 'none':
    case 'basic':
    case 'bearer':
      return undefined;
    case 'client-credentials':
      return clientCredentialsAuth({
        ...common,
        tokenUrl: need('DFA_DICOMWEB_TOKEN_URL'),
        clientId: need('DFA_DICOMWEB_CLIENT_ID'),
        clientSecret: need('DFA_DICOMWEB_CLIENT_SECRET'),
        scope: c.DFA_DICOMWEB_SCOPE,
      });
    case 'smart-backend':
      return smartBackendAuth({
        ...common,
        tokenUrl: need('DFA_DICOMWEB_TOKEN_URL'),
        clientId: need('DFA_DICOMWEB_CLIENT_ID'),
        privateKey: need('DFA_DICOMWEB_PRIVATE_KEY'),
        keySetting: 'DFA_DICOMWEB_PRIVATE_KEY',
        scope: c.DFA_DICOMWEB_SCOPE,
      });
  }
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
      case 'client-credentials':
      case 'smart-backend':
        return `the DICOMweb server rejected the token from DFA_DICOMWEB_TOKEN_URL (${scheme}) even after fetching a fresh one: check that the client's scope (DFA_DICOMWEB_SCOPE) grants access`;
    }
  }
  return 'the DICOMweb server refused access for these credentials (403): grant this user access, or set other credentials in DFA_DICOMWEB_USERNAME/DFA_DICOMWEB_PASSWORD or DFA_DICOMWEB_TOKEN';
}
