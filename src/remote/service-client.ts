import { DfaError, type DfaErrorCode } from '../core/errors.ts';
import type { Config } from '../core/config.ts';
import { stripUrlCredentials } from '../core/redact.ts';
import { bearerAuth, clientCredentialsAuth, noAuth, type HttpAuth } from '../net/http-auth.ts';
import { fetchTransport, nodeHttpTransport, type Transport, type TransportResponse } from '../net/transport.ts';

/**
 * The one HTTP client every remote adapter (src/remote) uses to call our services: the caller's
 * token on every request (fetched again once after a 401), a timeout per call, and typed errors:
 *  - SERVICE_UNAVAILABLE: refused, reset, timed out, or 502/503/504 — the call may go to another
 *    replica or be retried later (a job's network retry policy treats it as transient);
 *  - the service's own code for a 4xx it answered (`{error, message}`): ARTIFACT_NOT_FOUND,
 *    MODEL_NOT_INSTALLED, API_UNAUTHENTICATED… come back as the same DfaError as in process;
 *  - a fault of the system behind the service (the PACS, the FHIR server: DICOM_*, FHIR_*, any
 *    status, see ServiceDefinition.upstreamStatus) comes back with its own code, message and
 *    details, as the in-process port throws it (FHIR_CONFLICT after a 412, FHIR_UNAVAILABLE…);
 *  - SERVICE_ERROR: a 500 or an answer we cannot read.
 * Messages name the service and its URL without credentials, never a token.
 */
export interface ServiceClientOptions {
  /** For messages: 'ml_processor', 'storage_service'. */
  readonly service: string;
  readonly baseUrl: string;
  readonly auth?: HttpAuth;
  /** Per call, unless the call says otherwise (default 30 s). */
  readonly timeoutMs?: number;
  /** Another fetch (tests, proxies); default node:http (src/net/transport.ts: several times faster than fetch on a 157 MB body). */
  readonly fetch?: typeof fetch;
}

export interface CallOptions {
  readonly query?: Readonly<Record<string, string>>;
  /** JSON body (sent as application/json). */
  readonly json?: unknown;
  /** Raw bytes (sent as application/octet-stream). */
  readonly bytes?: Uint8Array;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface CallResult {
  readonly status: number;
  readonly body: Uint8Array;
}

const KNOWN_CODES = new Set<string>([
  'CONFIG_INVALID', 'GOAL_UNSUPPORTED', 'MODEL_INVALID', 'MODEL_NOT_INSTALLED', 'SEGMENTATION_FAILED', 'ARTIFACT_NOT_FOUND',
  'ARTIFACT_KEY_INVALID', 'API_UNAUTHENTICATED', 'API_FORBIDDEN', 'API_HOST_NOT_ALLOWED', 'API_RATE_LIMITED', 'DICOM_BAD_GEOMETRY',
]);

/** Faults of the PACS / FHIR server behind a service, kept as they are at any status. */
const UPSTREAM_CODES = new Set<string>([
  'DICOM_ASSOCIATION_REJECTED', 'DICOM_AE_NOT_ALLOWED', 'DICOM_TIMEOUT', 'DICOM_CONNECTION_FAILED', 'DICOM_TLS_FAILED',
  'DICOM_OPERATION_FAILED', 'DICOMWEB_HTTP_ERROR', 'DICOMWEB_AUTH_FAILED', 'RETRIEVE_FAILED', 'STORE_FAILED',
  'FHIR_HTTP_ERROR', 'FHIR_CONFLICT', 'FHIR_AUTH_FAILED', 'FHIR_TIMEOUT', 'FHIR_UNAVAILABLE', 'FHIR_PATIENT_MISMATCH',
]);

export class ServiceClient {
  readonly service: string;
  readonly baseUrl: string;
  private readonly auth: HttpAuth;
  private readonly timeoutMs: number;
  private readonly transport: Transport;

  constructor(o: ServiceClientOptions) {
    this.service = o.service;
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.auth = o.auth ?? noAuth();
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.transport = o.fetch ? fetchTransport(o.fetch) : nodeHttpTransport;
  }

  /** Where, for messages (no credentials). */
  get where(): string {
    return `${this.service} at ${stripUrlCredentials(this.baseUrl)}`;
  }

  /** One call; any 2xx/404 answer is returned (404 is an answer for HEAD), the rest throw typed errors. */
  async call(method: Method, path: string, o: CallOptions = {}): Promise<CallResult> {
    const qs = o.query ? `?${new URLSearchParams(o.query).toString()}` : '';
    const url = `${this.baseUrl}${path}${qs}`;
    const timeout = AbortSignal.timeout(o.timeoutMs ?? this.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const fail = (what: string, e: unknown): never => {
      if (o.signal?.aborted) throw e; // the caller gave up: not the service's fault
      const why = timeout.aborted ? `no answer within ${o.timeoutMs ?? this.timeoutMs} ms` : causeText(e);
      throw this.unavailable(`${method} ${path}: ${what}${why}`, e);
    };
    let res = await this.send(method, url, o, signal).catch((e: unknown) => fail('', e));
    if (res.status === 401 && this.auth.mode !== 'none' && this.auth.mode !== 'bearer') {
      await res.cancel();
      this.auth.invalidate(); // a cached IdP token may have been revoked: one fresh try
      res = await this.send(method, url, o, signal).catch((e: unknown) => fail('', e));
    }
    const body = await readBody(res).catch((e: unknown) => fail('the answer broke off: ', e));
    if (res.status >= 200 && res.status < 300) return { status: res.status, body };
    if (res.status === 404 && method === 'HEAD') return { status: res.status, body };
    throw this.answerError(res.status, body, method, path);
  }

  async json<T>(method: Method, path: string, o: CallOptions = {}): Promise<T> {
    const r = await this.call(method, path, o);
    try {
      return JSON.parse(new TextDecoder().decode(r.body)) as T;
    } catch (e) {
      throw new DfaError('SERVICE_ERROR', `${this.where}: ${method} ${path} answered something that is not JSON`, { cause: e });
    }
  }

  private async send(method: Method, url: string, o: CallOptions, signal: AbortSignal): Promise<TransportResponse> {
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream', ...(await this.auth.headers()) };
    let body: Uint8Array | undefined;
    if (o.bytes) {
      headers['content-type'] = 'application/octet-stream';
      body = o.bytes;
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = new TextEncoder().encode(JSON.stringify(o.json));
    }
    // A plain GET may read into one reused buffer (raw-http.ts): readBody copies each chunk out.
    return this.transport(url, { method, headers, ...(body ? { body } : {}), signal, transientChunks: method === 'GET' });
  }

  private unavailable(what: string, cause?: unknown): DfaError {
    return new DfaError('SERVICE_UNAVAILABLE', `${this.where} is unavailable: ${what}`, { cause, details: { service: this.service, url: stripUrlCredentials(this.baseUrl) } });
  }

  private answerError(status: number, body: Uint8Array, method: string, path: string): DfaError {
    let parsed: { error?: unknown; message?: unknown; details?: unknown } | undefined;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body)) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const message = typeof parsed?.message === 'string' ? parsed.message : `HTTP ${status}`;
    const details = { service: this.service, status, ...(parsed?.details && typeof parsed.details === 'object' ? (parsed.details as Record<string, unknown>) : {}) };
    if (typeof parsed?.error === 'string' && UPSTREAM_CODES.has(parsed.error)) {
      return new DfaError(parsed.error as DfaErrorCode, message, { details });
    }
    if (status === 502 || status === 503 || status === 504) return this.unavailable(`${method} ${path} answered HTTP ${status}`);
    if (status < 500 && typeof parsed?.error === 'string' && KNOWN_CODES.has(parsed.error)) {
      return new DfaError(parsed.error as DfaErrorCode, message, { details });
    }
    if (status === 404) return new DfaError('ARTIFACT_NOT_FOUND', `${this.where}: ${method} ${path}: ${message}`, { details });
    return new DfaError('SERVICE_ERROR', `${this.where}: ${method} ${path} answered HTTP ${status}: ${message}`, { details });
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

/** The whole body: into one buffer of the announced length when there is one (no chunk list to join). */
async function readBody(res: TransportResponse): Promise<Uint8Array> {
  const announced = Number(res.header('content-length') ?? Number.NaN);
  if (Number.isSafeInteger(announced) && announced >= 0) {
    const out = Buffer.allocUnsafe(announced);
    let at = 0;
    await res.consume((c) => {
      if (at + c.byteLength > announced) throw new Error(`the body is longer than its Content-Length (${announced})`);
      out.set(c, at);
      at += c.byteLength;
      return undefined;
    });
    if (at !== announced) throw new Error(`the body ended at ${at} of ${announced} bytes`);
    return out;
  }
  const parts: Buffer[] = [];
  await res.consume((c) => {
    parts.push(Buffer.from(c)); // a copy: the chunk may be a view of a reused buffer
    return undefined;
  });
  return Buffer.concat(parts);
}

/** The innermost cause's code or message ('ECONNREFUSED', 'other side closed'). */
function causeText(e: unknown): string {
  let c: unknown = e;
  while ((c as { cause?: unknown })?.cause) c = (c as { cause: unknown }).cause;
  const code = (c as { code?: unknown })?.code;
  const msg = (c as Error)?.message ?? String(c);
  return typeof code === 'string' ? `${code} ${msg}` : msg;
}

/**
 * What the agent sends to our services: DFA_SERVICE_TOKEN (a bearer; default DFA_API_TOKEN, the
 * token the services check when DFA_API_AUTH=token), or a token from the identity provider by
 * client credentials (DFA_SERVICE_TOKEN_URL + _CLIENT_ID + _CLIENT_SECRET; services with
 * DFA_API_AUTH=oidc; the token must carry the operator role). Nothing set: no header (loopback).
 */
export function serviceClientAuth(cfg: Config): HttpAuth {
  if (cfg.DFA_SERVICE_TOKEN_URL) {
    if (!cfg.DFA_SERVICE_CLIENT_ID || !cfg.DFA_SERVICE_CLIENT_SECRET) {
      throw new DfaError('CONFIG_INVALID', 'DFA_SERVICE_TOKEN_URL needs DFA_SERVICE_CLIENT_ID and DFA_SERVICE_CLIENT_SECRET');
    }
    return clientCredentialsAuth({
      tokenUrl: cfg.DFA_SERVICE_TOKEN_URL,
      clientId: cfg.DFA_SERVICE_CLIENT_ID,
      clientSecret: cfg.DFA_SERVICE_CLIENT_SECRET,
      scope: cfg.DFA_SERVICE_SCOPE,
      errorCode: 'SERVICE_UNAVAILABLE',
    });
  }
  const token = cfg.DFA_SERVICE_TOKEN ?? cfg.DFA_API_TOKEN;
  return token ? bearerAuth(token) : noAuth();
}
