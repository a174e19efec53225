import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { DfaError, type DfaErrorCode } from '../core/errors.ts';

/**
 * How an HTTP client authenticates to a FHIR or DICOMweb server (DFA_FHIR_AUTH, DFA_DICOMWEB_AUTH):
 * static basic / bearer, or a token from an OAuth2 token endpoint (client credentials, SMART
 * Backend Services). `headers()` is called before every request; `invalidate()` after a 401 so a
 * cached token is fetched again once. Secrets live only inside the closures here: nothing in this
 * file logs, and errors never include them. Shared by both clients, so it sits below both.
 */
export type HttpAuthMode = 'none' | 'basic' | 'bearer' | 'client-credentials' | 'smart-backend';
export interface HttpAuth {
  readonly mode: HttpAuthMode;
  headers(): Promise<Record<string, string>>;
  invalidate(): void;
}

export function noAuth(): HttpAuth {
  return { mode: 'none', headers: async () => ({}), invalidate: () => {} };
}

export function basicAuth(username: string, password: string): HttpAuth {
  const value = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  return { mode: 'basic', headers: async () => ({ authorization: value }), invalidate: () => {} };
}

export function bearerAuth(token: string): HttpAuth {
  return { mode: 'bearer', headers: async () => ({ authorization: `Bearer ${token}` }), invalidate: () => {} };
}

export interface TokenEndpointOptions {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly scope?: string;
  readonly timeoutMs?: number;
  /** Renew this long before `expires_in` runs out (default 60 s). */
  readonly renewBeforeMs?: number;
  readonly fetch?: typeof fetch;
  /** The code a refused or unreachable token request throws (default FHIR_AUTH_FAILED). */
  readonly errorCode?: DfaErrorCode;
}

/** OAuth2 client credentials grant (RFC 6749 §4.4) with client_secret_basic (§2.3.1). */
export function clientCredentialsAuth(opts: TokenEndpointOptions & { clientSecret: string }): HttpAuth {
  const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64');
  return tokenAuth('client-credentials', opts, async () => ({ headers: { authorization: basic }, form: {} }));
}

/**
 * SMART Backend Services (SMART App Launch 2.x "Backend Services"): a short-lived JWT signed with
 * our private key (RS384 or ES384) is the client assertion (RFC 7523); the server checks it against
 * the JWKS registered for the client.
 */
export function smartBackendAuth(opts: TokenEndpointOptions & { privateKey: string; kid?: string; keySetting?: string }): HttpAuth {
  let key: Promise<{ key: CryptoKey | KeyObject; alg: 'RS384' | 'ES384'; kid?: string }> | undefined;
  return tokenAuth('smart-backend', opts, async () => {
    key ??= loadSigningKey(opts.privateKey, opts.kid, opts.keySetting);
    const k = await key;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: k.alg, typ: 'JWT', ...(k.kid ? { kid: k.kid } : {}) })
      .setIssuer(opts.clientId)
      .setSubject(opts.clientId)
      .setAudience(opts.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 300) // SMART: no more than five minutes in the future
      .sign(k.key);
    return {
      headers: {},
      form: {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      },
    };
  });
}

/** A private key given as PEM (PKCS#8), a JWK JSON string, or a path to either. */
export async function loadSigningKey(
  source: string,
  kid?: string,
  setting = 'DFA_FHIR_PRIVATE_KEY',
): Promise<{ key: CryptoKey | KeyObject; alg: 'RS384' | 'ES384'; kid?: string }> {
  let text = source.trim();
  if (!text.startsWith('{') && !text.startsWith('-----') && existsSync(text)) text = readFileSync(text, 'utf8').trim();
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as JWK;
      const alg = jwk.kty === 'EC' ? 'ES384' : 'RS384';
      const key = await importJWK(jwk, alg);
      if (key instanceof Uint8Array) throw new Error('a symmetric JWK cannot sign RS384/ES384');
      return { key, alg, kid: kid ?? jwk.kid };
    }
    // Try RSA first, then EC: the PEM header (PRIVATE KEY) does not say which.
    try {
      return { key: await importPKCS8(text, 'RS384'), alg: 'RS384', kid };
    } catch {
      return { key: await importPKCS8(text, 'ES384'), alg: 'ES384', kid };
    }
  } catch (e) {
    throw new DfaError('CONFIG_INVALID', `${setting} is not a PKCS#8 PEM or JWK (RSA or P-384)`, { cause: e });
  }
}

interface TokenRequestParts {
  headers: Record<string, string>;
  form: Record<string, string>;
}

function tokenAuth(mode: 'client-credentials' | 'smart-backend', opts: TokenEndpointOptions, parts: () => Promise<TokenRequestParts>): HttpAuth {
  const doFetch = opts.fetch ?? fetch;
  const renewBefore = opts.renewBeforeMs ?? 60_000;
  const code = opts.errorCode ?? 'FHIR_AUTH_FAILED';
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const fetchToken = async (): Promise<string> => {
    const p = await parts();
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...p.form });
    if (opts.scope) form.set('scope', opts.scope);
    if (mode === 'smart-backend' || !p.headers['authorization']) form.set('client_id', opts.clientId);
    let res: Response;
    try {
      res = await doFetch(opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...p.headers },
        body: form.toString(),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new DfaError(code, `token endpoint ${opts.tokenUrl} unreachable: ${(e as Error).message}`, { cause: e });
    }
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok || typeof body?.['access_token'] !== 'string') {
      // RFC 6749 §5.2 error / error_description; never echo the request (it holds the secret).
      const why = body?.['error_description'] ?? body?.['error'] ?? outcomeText(body) ?? `HTTP ${res.status}`;
      throw new DfaError(code, `${mode} token request rejected by ${opts.tokenUrl}: ${String(why)}`, {
        details: { status: res.status, mode },
      });
    }
    const expiresIn = typeof body['expires_in'] === 'number' ? body['expires_in'] : 300;
    cached = { token: body['access_token'], expiresAt: Date.now() + expiresIn * 1000 - Math.min(renewBefore, (expiresIn * 1000) / 2) };
    return cached.token;
  };

  return {
    mode,
    async headers() {
      if (cached && Date.now() < cached.expiresAt) return { authorization: `Bearer ${cached.token}` };
      // One token request at a time, shared by concurrent callers.
      pending ??= fetchToken().finally(() => (pending = undefined));
      return { authorization: `Bearer ${await pending}` };
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** The first issue of an OperationOutcome some token endpoints answer with (FHIR R4 OperationOutcome). */
function outcomeText(body: Record<string, unknown> | undefined): string | undefined {
  const issue = (body?.['issue'] as { diagnostics?: string; details?: { text?: string } }[] | undefined)?.[0];
  return issue?.diagnostics ?? issue?.details?.text;
}
