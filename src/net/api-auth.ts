import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ApiAuthMode, Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import { isLoopbackHost } from '../core/loopback.ts';

/**
 * Who may call the REST API (DFA_API_AUTH):
 * - `none`: anyone who can reach it — allowed only when the API is bound to loopback.
 * - `token`: one shared bearer token (DFA_API_TOKEN, RFC 6750), compared in constant time.
 * - `oidc`: a JWT access token from the hospital's identity provider (RFC 9068 / OIDC Core), checked
 *   against its JWKS, issuer and audience; the roles come from a configurable claim.
 * Roles are ordered: viewer (read) < operator (start goals, review) < admin.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** `sub` of the token (with its issuer's name when it has one), 'token' or 'anonymous'. */
  readonly subject: string;
  readonly name?: string;
  readonly role: Role;
  readonly via: ApiAuthMode;
}

export interface ApiAuthenticator {
  readonly mode: ApiAuthMode;
  /** The caller behind an Authorization header value; DfaError API_UNAUTHENTICATED when none is valid. */
  authenticate(authorization: string | undefined): Promise<Caller>;
}

export const allows = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

const unauthenticated = (why: string) => new DfaError('API_UNAUTHENTICATED', why);

function bearer(authorization: string | undefined): string {
  if (!authorization) throw unauthenticated('authentication required: send Authorization: Bearer <token>');
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization); // RFC 6750 2.1 b64token
  if (!m) throw unauthenticated('authentication required: the Authorization header is not a Bearer token');
  return m[1];
}

export function noApiAuth(): ApiAuthenticator {
  return { mode: 'none', authenticate: async () => ({ subject: 'anonymous', role: 'admin', via: 'none' }) };
}

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
export function tokenApiAuth(token: string): ApiAuthenticator {
  const want = createHash('sha256').update(token).digest();
  return {
    mode: 'token',
    async authenticate(authorization) {
      const got = createHash('sha256').update(bearer(authorization)).digest();
      if (!timingSafeEqual(got, want)) throw unauthenticated('invalid token');
      return { subject: 'token', role: 'admin', via: 'token' };
    },
  };
}

export interface OidcOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Default: jwks_uri of `${issuer}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4). */
  readonly jwksUrl?: string;
  /** Dotted path of the claim holding the roles: 'roles', 'realm_access.roles', 'groups'. */
  readonly rolesClaim: string;
  readonly fetch?: typeof fetch;
}

/** A claim by dotted path; a string is split on spaces (like `scope`). */
export function claimValues(payload: JWTPayload, path: string): string[] {
  let v: unknown = payload;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The highest of our roles the caller holds; 'dfa:operator'-style prefixes are accepted too. */
export function roleFrom(values: readonly string[]): Role | undefined {
  let best: Role | undefined;
  for (const v of values) {
    const r = v.replace(/^.*[:/]/, '').toLowerCase() as Role;
    if (ROLES.includes(r) && (!best || allows(r, best))) best = r;
  }
  return best;
}

export function oidcApiAuth(o: OidcOptions): ApiAuthenticator {
  const doFetch = o.fetch ?? fetch;
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    let url = o.jwksUrl;
    if (!url) {
      const where = `${o.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const res = await doFetch(where, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
      const doc = (await res.json().catch(() => undefined)) as { jwks_uri?: unknown } | undefined;
      if (!res.ok || typeof doc?.jwks_uri !== 'string') throw new Error(`no jwks_uri in ${where} (HTTP ${res.status})`);
      url = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(url), { timeoutDuration: 10_000, cooldownDuration: 30_000 });
  };
  return {
    mode: 'oidc',
    async authenticate(authorization) {
      const jwt = bearer(authorization);
      keys ??= discover().catch((e: unknown) => {
        keys = undefined; // try discovery again on the next request
        throw e;
      });
      let payload: JWTPayload;
      try {
        const getKey = await keys;
        // Asymmetric algorithms only: an IdP never signs access tokens with a shared secret we hold.
        ({ payload } = await jwtVerify(jwt, getKey, {
          issuer: o.issuer,
          audience: o.audience,
          algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
          clockTolerance: 30,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (e) {
        throw unauthenticated(`invalid token: ${verifyReason(e)}`);
      }
      const role = roleFrom(claimValues(payload, o.rolesClaim));
      const name = typeof payload['preferred_username'] === 'string' ? payload['preferred_username'] : undefined;
      const caller = { subject: String(payload.sub), ...(name ? { name } : {}), via: 'oidc' as const };
      if (!role) throw new DfaError('API_FORBIDDEN', `no dfa role (viewer, operator, admin) in the token's '${o.rolesClaim}' claim`);
      return { ...caller, role };
    },
  };
}

/** What a caller may be told about a rejected token: the rule it broke, never the token. */
function verifyReason(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim '${e.claim}' ${e.reason === 'check_failed' ? 'does not match' : e.reason}`;
  if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature not from the issuer';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (e instanceof joseErrors.JOSEError) return e.code;
  return 'the issuer keys could not be fetched';
}

export { isLoopbackHost };

/** Builds the authenticator DFA_API_AUTH names; refuses settings that would expose the API. */
export function apiAuthFromConfig(c: Config, o: { fetch?: typeof fetch } = {}): ApiAuthenticator {
  switch (c.DFA_API_AUTH) {
    case 'none':
      if (!isLoopbackHost(c.DFA_API_HOST)) {
        throw new DfaError('CONFIG_INVALID', `DFA_API_AUTH=none is allowed only on loopback, but DFA_API_HOST=${c.DFA_API_HOST}: set DFA_API_AUTH=token or oidc`);
      }
      return noApiAuth();
    case 'token':
      if (!c.DFA_API_TOKEN || c.DFA_API_TOKEN.length < 16) throw new DfaError('CONFIG_INVALID', 'DFA_API_AUTH=token needs DFA_API_TOKEN of at least 16 characters');
      return tokenApiAuth(c.DFA_API_TOKEN);
    case 'oidc':
      if (!c.DFA_API_OIDC_ISSUER || !c.DFA_API_OIDC_AUDIENCE) throw new DfaError('CONFIG_INVALID', 'DFA_API_AUTH=oidc needs DFA_API_OIDC_ISSUER and DFA_API_OIDC_AUDIENCE');
      return oidcApiAuth({
        issuer: c.DFA_API_OIDC_ISSUER,
        audience: c.DFA_API_OIDC_AUDIENCE,
        jwksUrl: c.DFA_API_OIDC_JWKS_URL,
        rolesClaim: c.DFA_API_OIDC_ROLES_CLAIM,
        fetch: o.fetch,
      });
  }
}
