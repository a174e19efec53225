import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DfaError } from '../core/errors.ts';
import { allows, isLoopbackHost, noApiAuth, type ApiAuthenticator, type Caller, type Role } from './api-auth.ts';

/**
 * What every request passes before a route runs, in this order: the Host header is one we serve
 * (DNS rebinding: a web page on evil.example re-pointed at 127.0.0.1 still sends Host:
 * evil.example), the client address is under its request rate, the caller is authenticated and
 * its role allows the route (GET = viewer, anything else = operator). Liveness, readiness, the
 * OpenAPI document and the dashboard page itself are public: the page holds no data, it asks for a
 * token and then calls the API like any other client.
 */
export interface GuardOptions {
  readonly auth?: ApiAuthenticator;
  /** Host names (no port) accepted; undefined = any. */
  readonly allowedHosts?: readonly string[];
  /** Requests per minute per client address (token bucket). */
  readonly ratePerMinute?: number;
}

const PUBLIC = new Set(['/', '/health', '/ready', '/openapi.json']);
const callers = new WeakMap<FastifyRequest, Caller>();

/** The authenticated caller of a request (set by the guard; anonymous admin when auth is none). */
export function callerOf(req: FastifyRequest): Caller {
  return callers.get(req) ?? { subject: 'anonymous', role: 'admin', via: 'none' };
}

/** The Host allow-list DFA_API_ALLOWED_HOSTS or, for an API bound to loopback, the loopback names. */
export function defaultAllowedHosts(bindHost: string, configured?: readonly string[]): readonly string[] | undefined {
  if (configured && configured.length > 0) return configured.map((h) => h.toLowerCase());
  return isLoopbackHost(bindHost) ? ['localhost', '127.0.0.1', '[::1]'] : undefined;
}

/** Host header without its port (RFC 9110 7.2: uri-host [ ":" port ]; IPv6 literals in brackets). */
export function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d*$/, '');
}

export function requiredRole(method: string, url: string): Role | undefined {
  const path = url.split('?')[0];
  // The dashboard's pages, script and style hold no data (every datum comes from the API with the token).
  if ((method === 'GET' || method === 'HEAD') && (PUBLIC.has(path) || path.startsWith('/ui/') || path === '/favicon.ico')) return undefined;
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator';
}

/** Token bucket per key: `perMinute` requests, refilled continuously; bounded memory. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMinute: number;
  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }
  take(key: string, now = Date.now()): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.delete(key); // re-insert: the Map stays in least-recently-used order
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.buckets.delete(this.buckets.keys().next().value as string);
    return ok;
  }
}

export function registerGuard(app: FastifyInstance, o: GuardOptions): void {
  const auth = o.auth ?? noApiAuth();
  const limiter = o.ratePerMinute ? new RateLimiter(o.ratePerMinute) : undefined;
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    if (o.allowedHosts && !o.allowedHosts.includes(hostName(req.headers.host))) {
      throw new DfaError('API_HOST_NOT_ALLOWED', 'this Host is not served here (add it to DFA_API_ALLOWED_HOSTS)');
    }
    if (limiter && !limiter.take(req.ip)) {
      void reply.header('retry-after', '1');
      throw new DfaError('API_RATE_LIMITED', 'too many requests; slow down');
    }
    const need = requiredRole(req.method, req.url);
    if (!need || auth.mode === 'none') return;
    let caller: Caller;
    try {
      caller = await auth.authenticate(req.headers.authorization);
    } catch (e) {
      // RFC 6750 3: a 401 names the scheme; invalid_token when one was sent.
      void reply.header('www-authenticate', req.headers.authorization ? 'Bearer realm="dfa", error="invalid_token"' : 'Bearer realm="dfa"');
      throw e;
    }
    if (!allows(caller.role, need)) throw new DfaError('API_FORBIDDEN', `role ${caller.role} may not ${req.method} here (needs ${need})`);
    callers.set(req, caller);
  });
}
