/**
 * Our FHIR credentials go to the configured server only: a search whose `next` link names another
 * origin stops with a clear error, and that other server never sees a request (nor our token).
 * Credentials written into DFA_FHIR_URL become basic auth and vanish from the URL the client keeps.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { test } from 'node:test';
import { isDfaError } from '../core/errors.ts';
import { bearerAuth } from './auth.ts';
import { FhirClient } from './client.ts';

async function serve(handler: (url: string, headers: IncomingHttpHeaders) => unknown): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/fhir+json');
    res.end(JSON.stringify(handler(req.url ?? '', req.headers)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('a next link to another origin is refused; the other origin never sees our Authorization header', async () => {
  const seenByOther: IncomingHttpHeaders[] = [];
  const other = await serve((_u, h) => (seenByOther.push(h), { resourceType: 'Bundle', type: 'searchset', entry: [] }));
  const seen: IncomingHttpHeaders[] = [];
  const fhir = await serve((_u, h) => {
    seen.push(h);
    return { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: `${other.origin}/fhir/Patient?page=2` }], entry: [{ resource: { resourceType: 'Patient', id: '1' } }] };
  });
  try {
    const client = new FhirClient({ baseUrl: `${fhir.origin}/fhir`, auth: bearerAuth('tok-123') });
    const err = await client.search('Patient').catch((e: unknown) => e);
    assert.ok(isDfaError(err, 'FHIR_HTTP_ERROR'), String(err));
    assert.match(err.message, /not the configured server's origin/);
    assert.equal(seen[0].authorization, 'Bearer tok-123');
    assert.equal(seenByOther.length, 0);
  } finally {
    fhir.server.close();
    other.server.close();
  }
});

test('credentials in the base URL become basic auth and are not kept in the URL', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const fhir = await serve((_u, h) => (seen.push(h), { resourceType: 'Patient', id: '1' }));
  try {
    const client = new FhirClient({ baseUrl: `${fhir.origin.replace('//', '//dfa:S3cret%21@')}/fhir` });
    assert.equal(client.baseUrl, `${fhir.origin}/fhir`);
    await client.read('Patient', '1');
    assert.equal(seen[0].authorization, 'Basic ' + Buffer.from('dfa:S3cret!').toString('base64'));
  } finally {
    fhir.server.close();
  }
});
