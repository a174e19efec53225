import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allOk, badRequest, getStatus, OperationOutcomeError, preconditionFailed, unauthorized, validateResource } from '@medplum/core';
import { FhirRouter, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { capabilityStatement } from './capability.ts';
import { loadR4Definitions } from './definitions.ts';
import { JournalRepository } from './journal-repository.ts';
import { SearchSnapshots } from './search-snapshots.ts';
import { TokenService, type DevServerAuth } from './token-service.ts';
import { DfaError } from '../../core/errors.ts';
import { isLoopbackHost } from '../../core/loopback.ts';

/**
 * The embedded dev FHIR server: Medplum's FhirRouter + MemoryRepository behind node:http, with the
 * gaps filled (DESIGN.md): validation on write, /metadata, ETag/Last-Modified/Location, paging
 * `next` links, quoted and unquoted If-Match, a journal under dataDir, optional OAuth2 / SMART
 * backend auth. FHIR base is `<url>` (…/fhir); the token endpoint is `<tokenUrl>` (…/auth/token).
 */
export interface FhirServerOptions {
  readonly port?: number; // 0 / unset ⇒ any free port
  readonly host?: string; // default 127.0.0.1 (loopback only)
  readonly dataDir?: string; // persist here; unset ⇒ memory only
  readonly auth?: DevServerAuth;
  readonly defaultPageSize?: number; // default 20
  readonly maxPageSize?: number; // default 1000
}

/** Test-only fault injection: the next `count` FHIR requests get `status` (and Retry-After) or a delay. */
export interface InjectedFault {
  readonly status?: number;
  readonly retryAfterS?: number;
  readonly delayMs?: number;
  readonly count?: number;
}

export interface FhirServer {
  readonly url: string;
  readonly tokenUrl: string;
  readonly port: number;
  /** How many requests reached the FHIR routes (including rejected ones). */
  readonly requestCount: () => number;
  injectFault(f: InjectedFault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/fhir+json; charset=utf-8';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// Searches the snapshot pager does not reproduce go to FhirRouter as they are (no paging links).
const SPECIAL_SEARCH = ['_include', '_revinclude', '_summary', '_elements', '_total'];

export async function startFhirServer(opts: FhirServerOptions = {}): Promise<FhirServer> {
  if (opts.host && !isLoopbackHost(opts.host) && !opts.auth) {
    throw new DfaError('CONFIG_INVALID', `the FHIR dev server on ${opts.host} (not loopback) needs credentials (dfa fhir serve --auth auth.json)`);
  }
  loadR4Definitions();
  const repo = new JournalRepository(opts.dataDir);
  repo.lock();
  await repo.replay().catch((e: unknown) => {
    repo.unlock();
    throw e;
  });
  const router = new FhirRouter();
  const tokens = opts.auth ? new TokenService(opts.auth) : undefined;
  const faults: InjectedFault[] = [];
  const snapshots = new SearchSnapshots();
  let requests = 0;
  let base = '';
  let tokenUrl = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof BodyTooLarge) send(res, 413, outcome('too-costly', `request body over ${MAX_BODY} bytes`), JSON_TYPE, { connection: 'close' });
      else send(res, 500, outcome('exception', (e as Error).message));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', base);
    const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
    const raw = await readRaw(req);
    if (u.pathname === '/auth/token' && method === 'POST') {
      if (!tokens) return send(res, 404, { error: 'invalid_request', error_description: 'auth not enabled' }, 'application/json');
      const r = await tokens.token(new URLSearchParams(raw), req.headers.authorization, tokenUrl);
      return send(res, r.status, r.body, 'application/json', { 'cache-control': 'no-store' });
    }
    if (u.pathname !== '/fhir' && !u.pathname.startsWith('/fhir/')) return send(res, 404, outcome('not-found', 'not a FHIR path'));
    const rest = u.pathname.slice('/fhir'.length).replace(/^\/+/, '');
    requests++;

    const fault = faults[0];
    if (fault) {
      const left = (fault.count ?? 1) - 1;
      if (left <= 0) faults.shift();
      else faults[0] = { ...fault, count: left };
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status) {
        const h: Record<string, string> = fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {};
        return send(res, fault.status, outcome('transient', `injected fault ${fault.status}`), JSON_TYPE, h);
      }
    }

    if (rest === 'metadata' && method === 'GET') return send(res, 200, capabilityStatement(base, tokens ? tokenUrl : undefined));
    if (rest === '.well-known/smart-configuration' && method === 'GET') {
      return send(res, 200, { token_endpoint: tokenUrl, token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'], token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'], capabilities: ['client-confidential-asymmetric'] }, 'application/json');
    }
    if (tokens && !tokens.authorize(req.headers.authorization)) {
      return send(res, 401, unauthorized, JSON_TYPE, { 'www-authenticate': 'Bearer realm="fhir"' });
    }

    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, badRequest('body is not JSON'));
      }
    }
    if (WRITE_METHODS.has(method) && method !== 'DELETE' && body === undefined) return send(res, 400, badRequest('missing body'));

    // Validation against the R4 base definitions before anything is stored.
    const invalid = validateWrite(method, rest, body);
    if (invalid) return send(res, 400, invalid);

    const headers = { ...req.headers };
    const ifMatch = normaliseIfMatch(req.headers['if-match']);
    if (ifMatch) headers['if-match'] = ifMatch;
    // FhirRouter's PATCH ignores If-Match: check the version here (§3.1.0.5).
    if (method === 'PATCH' && ifMatch && /^[A-Za-z]+\/[^/]+$/.test(rest)) {
      const [type, id] = rest.split('/') as [string, string];
      const current = await repo.readResource(type, id).catch(() => undefined);
      if (current && `W/"${current.meta?.versionId}"` !== ifMatch) return send(res, 412, preconditionFailed);
    }

    const query = new URLSearchParams(u.search);
    if (method === 'GET' && /^[A-Z][A-Za-z]+$/.test(rest) && !SPECIAL_SEARCH.some((p) => query.has(p))) {
      const [oo, bundle] = await pagedSearch(rest, query, headers);
      return send(res, getStatus(oo), bundle ?? oo);
    }
    const qs = query.toString();
    const [oo, resource] = await router.handleRequest(
      { method, url: `/${rest}${qs ? '?' + qs : ''}`, pathname: '', body, params: {}, query: {}, headers, config: { transactions: true } },
      repo,
    );
    const status = getStatus(oo);
    if (status >= 400 || !resource) return send(res, status, oo);

    const h: Record<string, string> = {};
    const vid = resource.meta?.versionId;
    if (vid && resource.resourceType !== 'Bundle') {
      h['etag'] = `W/"${vid}"`;
      if (resource.meta?.lastUpdated) h['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
      if (status === 201) h['location'] = `${base}/${resource.resourceType}/${resource.id}/_history/${vid}`;
    }
    return send(res, status, resource, JSON_TYPE, h);
  }

  /** Type-level search paged over a snapshot of the matching ids (see SearchSnapshots). */
  async function pagedSearch(type: string, query: URLSearchParams, headers: IncomingMessage['headers']): Promise<[OperationOutcome, Bundle?]> {
    const count = Math.max(0, Math.min(Number(query.get('_count') ?? opts.defaultPageSize ?? 20) || 0, opts.maxPageSize ?? 1000));
    const offset = Math.max(0, Number(query.get('_offset') ?? 0) || 0);
    let cursor = query.get('_cursor') ?? undefined;
    let ids: readonly string[] | undefined;
    if (cursor) {
      ids = snapshots.get(cursor);
      if (!ids) return [{ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'expired', details: { text: 'search cursor expired or unknown; run the search again' } }] }];
    } else {
      const q = new URLSearchParams(query);
      for (const k of ['_count', '_offset', '_cursor']) q.delete(k);
      const [oo, b] = await router.handleRequest({ method: 'GET', url: `/${type}?${q.toString()}`, pathname: '', body: undefined, params: {}, query: {}, headers }, repo);
      if (getStatus(oo) >= 400 || b?.resourceType !== 'Bundle') return [oo];
      ids = (b.entry ?? []).map((e) => e.resource?.id ?? '').filter(Boolean);
      if (offset + count < ids.length) cursor = snapshots.create(ids);
    }
    const page = await Promise.all(ids.slice(offset, offset + count).map((id) => repo.readResource(type, id).catch(() => undefined)));
    const self = `${base}/${type}`;
    const link = (o: number) => {
      const q = new URLSearchParams(query);
      q.set('_count', String(count));
      q.set('_offset', String(o));
      if (cursor) q.set('_cursor', cursor);
      return `${self}?${q.toString()}`;
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: ids.length,
      link: [{ relation: 'self', url: link(offset) }],
      // A resource deleted since the snapshot is left out of its page.
      entry: page.filter((r) => r !== undefined).map((r) => ({ fullUrl: `${self}/${r.id}`, resource: r, search: { mode: 'match' as const } })),
    };
    // FHIR R4 §3.1.1.5.6: `next` while more matches remain.
    if (count > 0 && offset + count < ids.length) bundle.link?.push({ relation: 'next', url: link(offset + count) });
    return [allOk, bundle];
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      repo.unlock();
      reject(e);
    });
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  base = `http://${host}:${addr.port}/fhir`;
  tokenUrl = `http://${host}:${addr.port}/auth/token`;
  return {
    url: base,
    tokenUrl,
    port: addr.port,
    requestCount: () => requests,
    injectFault: (f) => faults.push(f),
    clearFaults: () => faults.splice(0),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => {
          repo.unlock();
          if (e) reject(e);
          else resolve();
        });
      }),
  };
}

/** Validate resources being written (create, update, each transaction entry) against R4. */
function validateWrite(method: string, rest: string, body: unknown): OperationOutcome | undefined {
  const check = (r: unknown, where: string): OperationOutcome | undefined => {
    if (typeof r !== 'object' || r === null || !('resourceType' in r)) return badRequest(`${where}: not a FHIR resource`);
    try {
      validateResource(r as Resource);
      return undefined;
    } catch (e) {
      if (e instanceof OperationOutcomeError) return e.outcome;
      return badRequest(`${where}: ${(e as Error).message}`);
    }
  };
  if ((method === 'POST' && /^[A-Z][A-Za-z]+$/.test(rest)) || method === 'PUT') return check(body, rest);
  if (method === 'POST' && rest === '') {
    const b = body as Bundle;
    if (b?.resourceType !== 'Bundle') return badRequest('POST to base needs a Bundle');
    for (const [i, e] of (b.entry ?? []).entries()) {
      if (e.resource && e.request?.method !== 'PATCH') {
        const bad = check(e.resource, `Bundle.entry[${i}]`);
        if (bad) return bad;
      }
    }
  }
  return undefined;
}

/** Accept `W/"v"`, `"v"` and bare `v`; FhirRouter only understands the quoted form. */
export function normaliseIfMatch(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const m = /^(?:W\/)?"([^"]+)"$/.exec(h.trim());
  return `W/"${m ? m[1] : h.trim()}"`;
}

function outcome(code: 'exception' | 'not-found' | 'transient' | 'too-costly', text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function send(res: ServerResponse, status: number, body: unknown, type = JSON_TYPE, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const MAX_BODY = 64 * 1024 * 1024; // a dev server: refuse anything absurd rather than run out of memory

async function readRaw(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new BodyTooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

class BodyTooLarge extends Error {}
