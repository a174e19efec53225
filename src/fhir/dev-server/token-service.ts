import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';

/** Who may call the dev server. Any configured method is accepted; none configured ⇒ open. */
export interface DevServerAuth {
  readonly basic?: { readonly username: string; readonly password: string };
  readonly bearerTokens?: readonly string[];
  /** OAuth2 clients: a secret (client credentials) and/or a JWKS (SMART Backend Services). */
  readonly clients?: readonly { readonly clientId: string; readonly clientSecret?: string; readonly jwks?: JSONWebKeySet }[];
  readonly tokenTtlS?: number;
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * The token endpoint and bearer check of the dev server: RFC 6749 §4.4 client credentials with
 * client_secret_basic / client_secret_post, and RFC 7523 JWT client assertions as SMART Backend
 * Services uses them (RS384 / ES384, aud = token URL, exp ≤ 5 min, jti not reused).
 */
export class TokenService {
  readonly #auth: DevServerAuth;
  readonly #issued = new Map<string, number>(); // token → expiry (ms)
  readonly #seenJti = new Map<string, number>();

  constructor(auth: DevServerAuth) {
    this.#auth = auth;
  }

  /** Checks the Authorization header of a FHIR request. */
  authorize(header: string | undefined): boolean {
    if (!header) return false;
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && this.#auth.basic) {
      const want = Buffer.from(`${this.#auth.basic.username}:${this.#auth.basic.password}`).toString('base64');
      return safeEqual(value, want);
    }
    if (scheme?.toLowerCase() === 'bearer') {
      if (this.#auth.bearerTokens?.some((t) => safeEqual(value, t))) return true;
      const exp = this.#issued.get(value);
      return exp !== undefined && exp > Date.now();
    }
    return false;
  }

  async token(form: URLSearchParams, authorization: string | undefined, tokenUrl: string): Promise<TokenResponse> {
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
    const assertion = form.get('client_assertion');
    let clientId: string | undefined;
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        return oauthError(400, 'invalid_request', 'bad client_assertion_type');
      }
      const why = await this.#verifyAssertion(assertion, tokenUrl);
      if (typeof why === 'string') return oauthError(401, 'invalid_client', why);
      clientId = why.clientId;
    } else {
      const creds = basicCredentials(authorization) ?? { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
      const client = this.#auth.clients?.find((c) => c.clientId === creds.id);
      if (!client?.clientSecret || !safeEqual(creds.secret, client.clientSecret)) return oauthError(401, 'invalid_client', 'unknown client or wrong secret');
      clientId = client.clientId;
    }
    const ttl = this.#auth.tokenTtlS ?? 300;
    const token = randomBytes(24).toString('base64url');
    this.#issued.set(token, Date.now() + ttl * 1000);
    return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: ttl, scope: form.get('scope') ?? 'system/*.*', client_id: clientId } };
  }

  async #verifyAssertion(jwt: string, tokenUrl: string): Promise<{ clientId: string } | string> {
    let iss: string | undefined;
    try {
      iss = decodeJwt(jwt).iss;
    } catch {
      return 'client_assertion is not a JWT';
    }
    const client = this.#auth.clients?.find((c) => c.clientId === iss && c.jwks);
    if (!client?.jwks) return 'unknown client';
    try {
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(client.jwks), {
        algorithms: ['RS384', 'ES384'],
        issuer: client.clientId,
        subject: client.clientId,
        audience: tokenUrl,
        maxTokenAge: '5m',
      });
      if (!payload.exp || payload.exp - Date.now() / 1000 > 300) return 'client_assertion exp must be within 5 minutes';
      if (!payload.jti) return 'client_assertion has no jti';
      const now = Date.now();
      for (const [j, exp] of this.#seenJti) if (exp < now) this.#seenJti.delete(j);
      if (this.#seenJti.has(payload.jti)) return 'client_assertion jti reused';
      this.#seenJti.set(payload.jti, payload.exp * 1000);
      return { clientId: client.clientId };
    } catch (e) {
      return `client_assertion rejected: ${(e as Error).message}`;
    }
  }
}

function oauthError(status: number, error: string, description: string): TokenResponse {
  return { status, body: { error, error_description: description } };
}

function basicCredentials(h: string | undefined): { id: string; secret: string } | undefined {
  if (!h?.toLowerCase().startsWith('basic ')) return undefined;
  const raw = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return undefined;
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
  return { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
