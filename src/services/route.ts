import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/**
 * One route of a service, declared once: fastify serves it from this and the OpenAPI document
 * (openapi.ts) is generated from the same schemas, so the two cannot drift apart. Bodies and query
 * strings are validated with zod before the handler runs (a bad one is 400 with what is wrong).
 * `binary` bodies travel as application/octet-stream, never as JSON (large data moves by reference
 * or as raw bytes, issue 13 §1).
 */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface RouteContext<Q, B> {
  readonly query: Q;
  readonly body: B;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteSpec<Q = unknown, B = unknown> {
  readonly method: HttpMethod;
  /** OpenAPI style: '/models' (path parameters are not used: keys travel in the query string). */
  readonly path: string;
  readonly summary: string;
  readonly query?: z.ZodType<Q>;
  /** A zod schema (JSON), or 'binary' (application/octet-stream, handed over as a Buffer: declare B = Buffer). */
  readonly body?: z.ZodType<B> | 'binary';
  /** A zod schema (JSON), 'binary' (the handler returns bytes) or 'empty' (204 / HEAD). */
  readonly response?: z.ZodType | 'binary' | 'empty';
  /** Error answers worth documenting: status → when. */
  readonly errors?: Readonly<Record<number, string>>;
  /** Largest body this route takes, bytes (default: the service's JSON limit). */
  readonly bodyLimit?: number;
  readonly handler: (ctx: RouteContext<Q, B>) => Promise<unknown>;
}

/** A route with its types erased, for a service's list of routes. */
export type AnyRoute = RouteSpec<unknown, unknown>;

/** Declares a route, keeping the handler's query/body types tied to its schemas. */
export function defineRoute<Q = undefined, B = undefined>(spec: RouteSpec<Q, B>): AnyRoute {
  return spec as unknown as AnyRoute;
}
