import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { DfaError, isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { bearerAuth } from '../net/http-auth.ts';
import { ServiceClient } from '../remote/service-client.ts';
import { defineRoute } from './route.ts';
import { startService, type ServiceDefinition } from './service-server.ts';

const TOKEN = 'service-test-token-0123456789';

function echoService(upstreamOk: () => boolean): ServiceDefinition {
  return {
    name: 'echo',
    title: 'echo_service',
    description: 'a service for the framework test',
    upstreams: { thing: async () => { if (!upstreamOk()) throw new Error('thing is down'); } },
    routes: [
      defineRoute({
        method: 'POST',
        path: '/echo',
        summary: 'echoes a word',
        body: z.object({ word: z.string().min(1) }),
        response: z.object({ word: z.string() }),
        handler: async ({ body }) => ({ word: body.word }),
      }),
      defineRoute<{ key: string }, Buffer>({
        method: 'PUT',
        path: '/bytes',
        summary: 'counts bytes',
        query: z.object({ key: z.string().describe('a key') }),
        body: 'binary',
        bodyLimit: 1024,
        response: z.object({ key: z.string(), n: z.number() }),
        handler: async ({ query, body }) => ({ key: query.key, n: body.length }),
      }),
      defineRoute({ method: 'GET', path: '/missing', summary: 'never there', handler: async () => { throw new DfaError('ARTIFACT_NOT_FOUND', 'no such thing'); } }),
      defineRoute({ method: 'GET', path: '/boom', summary: 'a fault', handler: async () => { throw new Error('secret path /var/lib/x leaked'); } }),
    ],
  };
}

test('a service: public health/ready/openapi, token on its routes, validated and bounded bodies, no internals in 5xx, typed client errors', async () => {
  const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
  let up = true;
  const log = memoryLogger();
  const s = await startService(echoService(() => up), cfg, { host: '127.0.0.1', port: 0, version: '9.9.9', log });
  try {
    const get = (p: string, h: Record<string, string> = {}) => fetch(`${s.url}${p}`, { headers: h });
    assert.equal((await get('/health')).status, 200);
    assert.equal((await get('/ready')).status, 200);
    up = false;
    const notReady = await get('/ready');
    assert.equal(notReady.status, 503);
    assert.match(JSON.stringify(await notReady.json()), /thing is down/);

    const doc = (await (await get('/openapi.json')).json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.version, '9.9.9');
    assert.ok(doc.paths['/echo']?.['post']);
    assert.deepEqual(doc.paths['/bytes']?.['put']?.parameters?.map((p) => p.name), ['key']);

    const noToken = await fetch(`${s.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"word":"x"}' });
    assert.equal(noToken.status, 401);

    const client = new ServiceClient({ service: 'echo_service', baseUrl: s.url, auth: bearerAuth(TOKEN) });
    assert.deepEqual(await client.json('POST', '/echo', { json: { word: 'lung' } }), { word: 'lung' });
    await assert.rejects(client.json('POST', '/echo', { json: { word: '' } }), (e) => isDfaError(e, 'CONFIG_INVALID') && /body\.word/.test(e.message));
    assert.deepEqual(await client.json('PUT', '/bytes', { query: { key: 'a/b' }, bytes: new Uint8Array(1000) }), { key: 'a/b', n: 1000 });
    await assert.rejects(client.call('PUT', '/bytes', { query: { key: 'a/b' }, bytes: new Uint8Array(2000) }), (e) => isDfaError(e, 'SERVICE_ERROR') && /413/.test(e.message));
    await assert.rejects(client.call('GET', '/missing'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND') && e.message === 'no such thing');
    await assert.rejects(client.call('GET', '/boom'), (e) => isDfaError(e, 'SERVICE_ERROR') && !e.message.includes('/var/lib') && /ref /.test(e.message));
    assert.ok(log.lines.some((l) => l.includes('/var/lib/x')), 'the fault is in the service log');
    const wrong = new ServiceClient({ service: 'echo_service', baseUrl: s.url, auth: bearerAuth('not-the-token-at-all') });
    await assert.rejects(wrong.call('GET', '/missing'), (e) => isDfaError(e, 'API_UNAUTHENTICATED'));
  } finally {
    await s.close();
  }
  const gone = new ServiceClient({ service: 'echo_service', baseUrl: s.url, timeoutMs: 2000 });
  await assert.rejects(gone.call('GET', '/health'), (e) => isDfaError(e, 'SERVICE_UNAVAILABLE') && /echo_service at http:\/\/127\.0\.0\.1/.test(e.message));
});

test('a service off loopback without authentication is refused before it listens', async () => {
  const cfg = loadConfig({});
  await assert.rejects(
    startService(echoService(() => true), cfg, { host: '0.0.0.0', port: 0, version: '1', log: memoryLogger() }),
    (e) => isDfaError(e, 'CONFIG_INVALID') && /DFA_API_AUTH=token/.test(e.message),
  );
});
