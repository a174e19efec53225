import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../core/config.ts';
import { DfaError, httpStatusFor, isDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { isLoopbackHost } from '../core/loopback.ts';
import { apiAuthFromConfig, type ApiAuthenticator } from '../net/api-auth.ts';
import { defaultAllowedHosts, registerGuard } from '../net/api-guard.ts';
import { serviceOpenApi } from './openapi.ts';
import type { AnyRoute } from './route.ts';
import { readinessFrom } from '../net/readiness.ts';

/**
 * One service (`dfa service <name>`) as its own HTTP server: its routes, `/health` (alive),
 * `/ready` (its upstreams answer), `/openapi.json` (from the route schemas), the REST API's
 * authentication and Host/rate guard (src/net/api-guard.ts), bounded bodies, and 5xx answers that
 * say only a reference (the cause goes to the log). Bound to loopback by default; anywhere else
 * only with DFA_API_AUTH=token|oidc (like `dfa serve`).
 */
export interface ServiceDefinition {
  /** The CLI name: `dfa service <name>`. */
  readonly name: string;
  /** What the architecture calls it (ml_processor, storage_service, …). */
  readonly title: string;
  readonly description: string;
  readonly routes: readonly AnyRoute[];
  /** GET /ready: each upstream's probe (resolves = reachable). */
  readonly upstreams: Readonly<Record<string, () => Promise<unknown>>>;
  /**
   * Faults of the system this service fronts (the PACS, the FHIR server), answered as they are: the
   * HTTP status returned here, with the error's code, message and details, so a remote adapter
   * throws the same typed error as the in-process port (src/remote/service-client.ts). Undefined =
   * an ordinary error (a 5xx says only a reference). Messages of these errors carry no secrets
   * (DfaError: details are never secrets; URLs without credentials or query strings).
   */
  upstreamStatus?(e: DfaError): number | undefined;
  /** Releases what the service holds (segmenters, clients); after the server stopped. */
  close?(): Promise<void>;
}

export interface ServiceOptions {
  readonly version: string;
  readonly log: Logger;
  readonly auth: ApiAuthenticator;
  /** Host header names accepted (undefined = any). */
  readonly allowedHosts?: readonly string[];
  readonly ratePerMinute?: number;
  /** Largest JSON body (default 64 KiB); a binary route sets its own. */
  readonly maxBodyBytes?: number;
  /** Per-probe limit of GET /ready (default 3000 ms). */
  readonly readinessTimeoutMs?: number;
}

export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** The fastify app of one service (not listening: tests may `inject`). */
export function buildService(def: ServiceDefinition, o: ServiceOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: o.maxBodyBytes ?? 64 * 1024 });
  registerGuard(app, { auth: o.auth, allowedHosts: o.allowedHosts, ratePerMinute: o.ratePerMinute });
  // Raw bytes up to the route's bodyLimit (fastify counts while it reads and stops at the limit: 413).
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((e, req, reply) => {
    const upstream = isDfaError(e) ? def.upstreamStatus?.(e) : undefined;
    if (upstream !== undefined && isDfaError(e)) {
      o.log.warn('upstream error', { service: def.name, ref: req.id, code: e.code, status: upstream });
      void reply.status(upstream).send({ error: e.code, message: e.message, ...(Object.keys(e.details).length ? { details: e.details } : {}) });
      return;
    }
    const status = isDfaError(e) ? httpStatusFor(e) : ((e as { statusCode?: number }).statusCode ?? 500);
    const code = isDfaError(e) ? e.code : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    if (status >= 500) {
      o.log.error('service error', { service: def.name, ref: req.id, code, error: (e as Error).message });
      void reply.status(status).send({ error: code, message: `internal error (ref ${req.id}); see the ${def.name} service log` });
      return;
    }
    void reply.status(status).send({ error: code, message: (e as Error).message, ...(isDfaError(e) && Object.keys(e.details).length ? { details: e.details } : {}) });
  });

  app.get('/health', async () => ({ status: 'ok', service: def.name }));
  app.get('/ready', async (_req, reply) => {
    const checks = await readinessFrom(def.upstreams, o.readinessTimeoutMs ?? 3000)();
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.status(ready ? 200 : 503).send({ ready, checks });
  });
  const doc = serviceOpenApi({ title: `dicom-fhir-agent ${def.title}`, version: o.version, description: def.description }, def.routes);
  app.get('/openapi.json', async () => doc);

  for (const r of def.routes) {
    app.route({
      method: r.method,
      url: r.path,
      ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
      handler: async (req, reply) => {
        const query = r.query ? parse(r.query, req.query, 'query') : undefined;
        let body: unknown;
        if (r.body === 'binary') {
          if (!Buffer.isBuffer(req.body)) throw new DfaError('CONFIG_INVALID', 'bad request: send the bytes as application/octet-stream');
          body = req.body;
        } else if (r.body) body = parse(r.body, req.body, 'body');
        const out = await r.handler({ query, body, req, reply });
        if (r.response === 'empty') return reply.status(204).send();
        if (r.response === 'binary' && out instanceof Uint8Array) {
          return reply.type('application/octet-stream').send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
        }
        return out;
      },
    });
  }
  return app;
}

/** A zod check whose failure is the caller's fault (400), naming each problem. */
function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
  throw new DfaError('CONFIG_INVALID', `bad request: ${why}`);
}


/** The DFA_API_AUTH authenticator for a service bound to `host`: none is refused off loopback. */
export function serviceAuthFromConfig(cfg: Config, host: string): ApiAuthenticator {
  if (cfg.DFA_API_AUTH === 'none' && !isLoopbackHost(host)) {
    throw new DfaError('CONFIG_INVALID', `a service on ${host} needs authentication: set DFA_API_AUTH=token (with DFA_API_TOKEN) or oidc, or bind it to 127.0.0.1`);
  }
  return apiAuthFromConfig({ ...cfg, DFA_API_HOST: host });
}

/** Starts a service on host:port (port 0 = any free one); refuses an exposed service without auth. */
export async function startService(def: ServiceDefinition, cfg: Config, o: Omit<ServiceOptions, 'auth'> & { host: string; port: number; auth?: ApiAuthenticator }): Promise<RunningService> {
  const auth = o.auth ?? serviceAuthFromConfig(cfg, o.host);
  const app = buildService(def, {
    ...o,
    auth,
    allowedHosts: o.allowedHosts ?? defaultAllowedHosts(o.host, cfg.DFA_API_ALLOWED_HOSTS),
    ratePerMinute: o.ratePerMinute,
    maxBodyBytes: o.maxBodyBytes ?? cfg.DFA_SERVICE_MAX_BODY_KB * 1024,
  });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await def.close?.();
    throw new DfaError('CONFIG_INVALID', `the ${def.name} service cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`, { cause: e });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    app,
    close: async () => {
      await app.close();
      await def.close?.();
    },
  };
}
