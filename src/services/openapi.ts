import { z } from 'zod';
import type { AnyRoute } from './route.ts';

/** The OpenAPI 3.1 document of one service, generated from its route declarations (as src/api/openapi.ts does for the API). */
const schemaOf = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const json = (s: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schemaOf(s, io) } });
const BINARY = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };

export const ServiceError = z.object({
  error: z.string().describe('Stable error code (DfaError code)'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export const ServiceHealth = z.object({ status: z.literal('ok'), service: z.string() });
export const ServiceReadiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});

export interface ServiceDocInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

/** Query parameters from a zod object schema (each property one `in: query` parameter). */
function queryParameters(q: z.ZodType | undefined): unknown[] {
  if (!q) return [];
  const doc = schemaOf(q, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(doc.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: doc.required?.includes(name) ?? false,
    ...(typeof schema['description'] === 'string' ? { description: schema['description'] } : {}),
    schema,
  }));
}

function operation(r: AnyRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const okStatus = r.response === 'empty' ? 204 : 200;
  if (r.response === 'binary') responses[okStatus] = { description: 'the bytes', content: BINARY };
  else if (r.response === 'empty' || r.response === undefined) responses[okStatus] = { description: 'done' };
  else responses[okStatus] = { description: 'OK', content: json(r.response, 'output') };
  responses[400] = { description: 'Bad request: what is wrong', content: json(ServiceError, 'output') };
  responses[401] = { description: 'No valid bearer token (DFA_API_AUTH=token|oidc)', content: json(ServiceError, 'output') };
  for (const [status, description] of Object.entries(r.errors ?? {})) responses[status] = { description, content: json(ServiceError, 'output') };
  const parameters = queryParameters(r.query);
  const body = r.body === 'binary' ? { required: true, content: BINARY } : r.body ? { required: true, content: json(r.body, 'input') } : undefined;
  return { summary: r.summary, ...(parameters.length ? { parameters } : {}), ...(body ? { requestBody: body } : {}), responses };
}

export function serviceOpenApi(info: ServiceDocInfo, routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {
    '/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'alive', content: json(ServiceHealth, 'output') } } } },
    '/ready': {
      get: {
        summary: 'Readiness: the upstreams this service needs answer',
        security: [],
        responses: { 200: { description: 'ready', content: json(ServiceReadiness, 'output') }, 503: { description: 'not ready', content: json(ServiceReadiness, 'output') } },
      },
    },
  };
  for (const r of routes) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    // Same rules as the REST API (src/net/api-guard.ts): GET/HEAD need the viewer role, other methods operator.
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'DFA_API_TOKEN, or an OIDC access token (JWT) with a viewer/operator/admin role' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
