import type { Bundle, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { DfaError, isDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { basicAuth, noAuth, type FhirAuth } from './auth.ts';
import { httpError, statusOf } from './fhir-error.ts';

/**
 * A thin fetch-based FHIR R4 REST client. Why not a library: @medplum/core's MedplumClient assumes
 * Medplum's own auth and URLs, and fhir-kit-client brings its own HTTP stack and error shapes;
 * what we need (If-Match, If-None-Exist, paging, retry with Retry-After, pluggable auth, one
 * error type) is ~250 lines over fetch.
 */
export type WithId<T extends Resource> = T & { id: string; meta?: { versionId?: string } };

export interface FhirClientOptions {
  readonly baseUrl: string;
  readonly auth?: FhirAuth;
  readonly timeoutMs?: number; // per attempt (DFA_FHIR_TIMEOUT_MS)
  readonly maxRetries?: number; // for 429/502/503/504 and timeouts; default 3
  readonly retryBaseMs?: number; // first backoff, doubled each time; default 250
  readonly maxRetryAfterMs?: number; // cap on a server's Retry-After; default 30 s
  readonly log?: Logger;
  readonly fetch?: typeof fetch;
}

export interface SearchOptions {
  /** Stop after this many resources (default 10,000). */
  readonly maxResults?: number;
  /** Stop after this many pages (default 1,000). */
  readonly maxPages?: number;
}

export type SearchParams = Record<string, string | number | readonly string[] | undefined>;

export interface FhirResult<T> {
  readonly status: number;
  readonly body: T;
  readonly location?: string;
  readonly etag?: string;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const FHIR_JSON = 'application/fhir+json';

export class FhirClient {
  readonly baseUrl: string;
  readonly #auth: FhirAuth;
  readonly #opts: FhirClientOptions;
  readonly #fetch: typeof fetch;

  constructor(opts: FhirClientOptions) {
    // Credentials in the URL (https://user:pass@host/fhir) become basic auth; the URL kept, logged
    // and written (Endpoint, Provenance) never carries them.
    const u = new URL(opts.baseUrl);
    const userinfo = u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined;
    u.username = '';
    u.password = '';
    this.baseUrl = u.toString().replace(/\/+$/, '');
    this.#auth = opts.auth ?? (userinfo ? basicAuth(userinfo.user, userinfo.pass) : noAuth());
    this.#opts = opts;
    this.#fetch = opts.fetch ?? fetch;
  }

  async read<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>> {
    return (await this.request<WithId<T>>('GET', `${type}/${encodeURIComponent(id)}`)).body;
  }

  /** Reads a reference like 'Patient/123'. */
  async readReference<T extends Resource>(reference: string): Promise<WithId<T>> {
    const [type, id] = reference.split('/');
    if (!type || !id) throw new DfaError('FHIR_HTTP_ERROR', `not a relative reference: ${reference}`);
    return this.read<T>(type as T['resourceType'], id);
  }

  /** One page of a search (type-level). */
  async searchPage<T extends Resource>(type: ResourceType, params: SearchParams = {}): Promise<Bundle<WithId<T>>> {
    return (await this.request<Bundle<WithId<T>>>('GET', `${type}?${toQuery(params)}`)).body;
  }

  /** Search following `next` links to the end (FHIR R4 §3.1.1.5.6 paging), capped. */
  async search<T extends Resource>(type: ResourceType, params: SearchParams = {}, opts: SearchOptions = {}): Promise<WithId<T>[]> {
    const maxResults = opts.maxResults ?? 10_000;
    const maxPages = opts.maxPages ?? 1_000;
    const out: WithId<T>[] = [];
    let page = await this.searchPage<T>(type, params);
    for (let n = 1; ; n++) {
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      for (const [i, e] of (page.entry ?? []).entries()) {
        // _include'd resources come back with search.mode = 'include'; callers want matches.
        if (e.resource && e.search?.mode !== 'include' && e.resource.resourceType === type) out.push(e.resource);
        if (out.length >= maxResults) {
          if (next || i < (page.entry?.length ?? 0) - 1) this.#opts.log?.warn('fhir: search stopped at the result cap', { type, maxResults });
          return out;
        }
      }
      if (!next) return out;
      if (n >= maxPages) {
        this.#opts.log?.warn('fhir: search stopped at the page cap; more results exist', { type, maxPages, results: out.length });
        return out;
      }
      page = (await this.request<Bundle<WithId<T>>>('GET', next)).body;
    }
  }

  async searchOne<T extends Resource>(type: ResourceType, params: SearchParams): Promise<WithId<T> | undefined> {
    const page = await this.searchPage<T>(type, { ...params, _count: 2 });
    const hits = (page.entry ?? []).filter((e) => e.resource?.resourceType === type);
    if (hits.length > 1) throw new DfaError('FHIR_CONFLICT', `more than one ${type} matches ${Object.keys(params).join(',')}`);
    return hits[0]?.resource;
  }

  /** Create; with `ifNoneExist` (a query string) the server returns the existing match instead (§3.1.0.8). */
  async create<T extends Resource>(resource: T, opts: { ifNoneExist?: string } = {}): Promise<{ resource: WithId<T>; created: boolean }> {
    const headers: Record<string, string> = opts.ifNoneExist ? { 'if-none-exist': opts.ifNoneExist } : {};
    const r = await this.request<WithId<T>>('POST', resource.resourceType, resource, headers, !!opts.ifNoneExist);
    return { resource: r.body, created: r.status === 201 };
  }

  /**
   * Update by id. With `ifMatch` (a versionId) the server refuses a stale write with 412
   * (§3.1.0.5 managing resource contention); HAPI and Google require the weak ETag to be quoted.
   */
  async update<T extends Resource>(resource: T & { id: string }, opts: { ifMatch?: string } = {}): Promise<WithId<T>> {
    const headers: Record<string, string> = opts.ifMatch ? { 'if-match': `W/"${opts.ifMatch}"` } : {};
    return (await this.request<WithId<T>>('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, resource, headers)).body;
  }

  /** Conditional update (§3.1.0.4.3): create if no match, update if one, error if several. */
  async conditionalUpdate<T extends Resource>(resource: T, params: SearchParams): Promise<{ resource: WithId<T>; created: boolean }> {
    const r = await this.request<WithId<T>>('PUT', `${resource.resourceType}?${toQuery(params)}`, resource);
    return { resource: r.body, created: r.status === 201 };
  }

  /** JSON Patch (RFC 6902), optionally version-checked. */
  async patch<T extends Resource>(
    type: T['resourceType'],
    id: string,
    ops: readonly { op: string; path: string; value?: unknown }[],
    opts: { ifMatch?: string } = {},
  ): Promise<WithId<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json-patch+json' };
    if (opts.ifMatch) headers['if-match'] = `W/"${opts.ifMatch}"`;
    return (await this.request<WithId<T>>('PATCH', `${type}/${encodeURIComponent(id)}`, ops, headers)).body;
  }

  /** Transaction or batch bundle (§3.1.0.11); the response bundle's entries carry each outcome. */
  async transaction(bundle: Bundle): Promise<Bundle> {
    // Repeating after a lost reply is safe only if every entry is: a plain POST would run twice.
    const repeatable = (bundle.entry ?? []).every((e) => e.request?.method !== 'POST' || !!e.request.ifNoneExist);
    return (await this.request<Bundle>('POST', '', bundle, {}, repeatable)).body;
  }

  /**
   * Read-modify-write with optimistic locking: read, apply `change`, PUT with If-Match. On 412
   * (someone else wrote in between) re-read and re-apply once; never a blind overwrite.
   * `change` returns undefined when there is nothing to do.
   */
  async modify<T extends Resource>(type: T['resourceType'], id: string, change: (current: WithId<T>) => T | undefined): Promise<WithId<T>> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.read<T>(type, id);
      const next = change(structuredClone(current));
      if (!next) return current;
      try {
        return await this.update<T>({ ...next, id }, { ifMatch: current.meta?.versionId });
      } catch (e) {
        if (statusOf(e) !== 412 || attempt >= 1) throw e;
        this.#opts.log?.info('fhir: stale version, re-reading', { resource: `${type}/${id}` });
      }
    }
  }

  /** Low-level request with auth, timeout, retries; `path` may be absolute (a `next` link). */
  async request<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}, idempotent?: boolean): Promise<FhirResult<T>> {
    const url = /^https?:\/\//i.test(path) ? path : `${this.baseUrl}/${path}`;
    // Our Authorization header goes to the configured server only: a `next` link (or any absolute
    // URL) naming another origin is refused, not followed with our credentials.
    if (new URL(url).origin !== new URL(this.baseUrl).origin) {
      throw new DfaError('FHIR_HTTP_ERROR', `refusing to send FHIR ${method} to ${new URL(url).origin}: not the configured server's origin (${new URL(this.baseUrl).origin})`, {
        details: { method },
      });
    }
    const maxRetries = this.#opts.maxRetries ?? 3;
    // POST without If-None-Exist is not idempotent: a lost reply must not become a duplicate.
    const safeToRepeat = idempotent ?? method !== 'POST';
    let reauthed = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      let parsed: unknown;
      try {
        res = await this.#fetch(url, {
          method,
          headers: {
            accept: FHIR_JSON,
            ...(body === undefined ? {} : { 'content-type': FHIR_JSON }),
            ...(await this.#auth.headers()),
            ...extraHeaders,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 30_000),
        });
        // The timeout covers the body too: a reply that stalls half-way counts as timed out.
        parsed = await readBody(res);
      } catch (e) {
        if (isDfaError(e)) throw e; // auth failure
        const timedOut = (e as Error).name === 'TimeoutError';
        if (safeToRepeat && attempt < maxRetries) {
          await this.#backoff(attempt, undefined, method, url, timedOut ? 'timeout' : 'network');
          continue;
        }
        throw new DfaError(timedOut ? 'FHIR_TIMEOUT' : 'FHIR_UNAVAILABLE', `FHIR ${method} ${url.split('?')[0]}: ${timedOut ? 'timed out' : (e as Error).message}`, {
          cause: e,
          details: { method, attempts: attempt + 1 },
        });
      }
      if (res.ok) {
        return { status: res.status, body: parsed as T, location: res.headers.get('location') ?? undefined, etag: res.headers.get('etag') ?? undefined };
      }
      if (res.status === 401 && this.#auth.mode !== 'none' && !reauthed) {
        // A cached token may have been revoked or expired early: fetch a fresh one once.
        reauthed = true;
        this.#auth.invalidate();
        if (this.#auth.mode === 'client-credentials' || this.#auth.mode === 'smart-backend') continue;
      }
      if (RETRY_STATUS.has(res.status) && attempt < maxRetries) {
        await this.#backoff(attempt, res.headers.get('retry-after'), method, url, `HTTP ${res.status}`);
        continue;
      }
      throw httpError(method, url, res.status, parsed);
    }
  }

  async #backoff(attempt: number, retryAfter: string | null | undefined, method: string, url: string, why: string): Promise<void> {
    const base = (this.#opts.retryBaseMs ?? 250) * 2 ** attempt;
    const jitter = Math.random() * base * 0.2;
    const fromServer = parseRetryAfter(retryAfter);
    const ms = Math.min(fromServer ?? base + jitter, this.#opts.maxRetryAfterMs ?? 30_000);
    this.#opts.log?.warn('fhir: retrying', { method, path: url.split('?')[0], why, attempt: attempt + 1, waitMs: Math.round(ms) });
    await new Promise((r) => setTimeout(r, ms));
  }
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(v: string | null | undefined): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

export function toQuery(params: SearchParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) q.append(k, x);
    else q.append(k, String(v));
  }
  return q.toString();
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export type { OperationOutcome };
