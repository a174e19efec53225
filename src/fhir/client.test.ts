import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { FhirClient, parseRetryAfter } from './client.ts';
import { startFhirServer, type FhirServer } from './dev-server/server.ts';
import { FHIR_CONTRACT, newMark } from './fhir-contract.ts';

// Contract suite: the client against the embedded dev server over real HTTP.
let server: FhirServer;
let dir: string;
let fhir: FhirClient;
const log = memoryLogger();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-fhir-client-'));
  server = await startFhirServer({ dataDir: dir });
  fhir = new FhirClient({ baseUrl: server.url, retryBaseMs: 10, timeoutMs: 2000, log });
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const patient = (mrn: string): Patient => ({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: mrn }], name: [{ family: 'Test' }] });

test('create returns the stored resource with id and version; read gets it back with an ETag', async () => {
  const { resource, created } = await fhir.create(patient('c1'));
  assert.equal(created, true);
  assert.ok(resource.id && resource.meta?.versionId);
  const r = await fhir.request<Patient>('GET', `Patient/${resource.id}`);
  assert.equal(r.etag, `W/"${resource.meta?.versionId}"`);
  const raw = await fetch(`${server.url}/Patient/${resource.id}`);
  assert.equal(raw.headers.get('last-modified'), new Date(resource.meta!.lastUpdated!).toUTCString());
  assert.equal(r.body.identifier?.[0]?.value, 'c1');
});

for (const c of FHIR_CONTRACT) {
  test(`contract: ${c.name}`, () => c.run({ client: fhir, makeClient: (o) => new FhirClient({ baseUrl: server.url, retryBaseMs: 10, ...o }), mark: newMark() }));
}

test('201 responses carry a Location with the version', async () => {
  const r = await fhir.request<Patient>('POST', 'Patient', patient('loc'));
  assert.equal(r.status, 201);
  assert.match(r.location ?? '', new RegExp(`/Patient/${r.body.id}/_history/${r.body.meta?.versionId}$`));
});

test('search follows next links across 3+ pages to the end, and the cap stops it', async () => {
  for (let i = 0; i < 7; i++) await fhir.create({ ...patient(`page-${i}`), name: [{ family: 'Paged' }] });
  const first = await fhir.searchPage<Patient>('Patient', { family: 'Paged', _count: 2 });
  assert.ok(first.link?.some((l) => l.relation === 'next'));
  const all = await fhir.search<Patient>('Patient', { family: 'Paged', _count: 2 });
  assert.equal(all.length, 7);
  assert.equal(new Set(all.map((p) => p.id)).size, 7);
  const capped = await fhir.search<Patient>('Patient', { family: 'Paged', _count: 2 }, { maxPages: 2 });
  assert.equal(capped.length, 4);
  assert.ok(log.lines.some((l) => l.includes('stopped at the page cap')));
});

test('paging does not skip matches when earlier ones stop matching between pages', async () => {
  for (let i = 0; i < 6; i++) await fhir.create({ ...patient(`shift-${i}`), name: [{ family: 'Shift' }] });
  const first = await fhir.searchPage<Patient>('Patient', { family: 'Shift', _count: 2 });
  const seen: string[] = (first.entry ?? []).map((e) => e.resource!.id);
  // The worklist effect: items of page 1 are processed and leave the result set.
  for (const e of first.entry ?? []) await fhir.update({ ...e.resource!, name: [{ family: 'Done' }] });
  let next = first.link?.find((l) => l.relation === 'next')?.url;
  while (next) {
    const page = (await fhir.request<Bundle>('GET', next)).body;
    seen.push(...(page.entry ?? []).map((e) => e.resource?.id ?? ''));
    next = page.link?.find((l) => l.relation === 'next')?.url;
  }
  assert.equal(new Set(seen).size, 6);
});

test('503 with Retry-After then 200: retried and succeeds', async () => {
  const before = server.requestCount();
  server.injectFault({ status: 503, retryAfterS: 0, count: 1 });
  const { resource } = await fhir.create(patient('retry'));
  assert.ok(resource.id);
  assert.equal(server.requestCount() - before, 2);
  assert.ok(log.lines.some((l) => l.includes('fhir: retrying') && l.includes('HTTP 503')));
});

test('503 that persists ends in FHIR_UNAVAILABLE after the retries', async () => {
  server.injectFault({ status: 503, count: 10 });
  const c = new FhirClient({ baseUrl: server.url, retryBaseMs: 1, maxRetries: 2 });
  await assert.rejects(() => c.searchPage('Patient'), (e) => isDfaError(e, 'FHIR_UNAVAILABLE'));
  server.clearFaults();
});

test('a slow reply times out and is retried for reads', async () => {
  server.injectFault({ delayMs: 400, count: 1 });
  const c = new FhirClient({ baseUrl: server.url, retryBaseMs: 1, timeoutMs: 150 });
  const page = await c.searchPage('Patient', { _count: 1 });
  assert.equal(page.resourceType, 'Bundle');
  server.injectFault({ delayMs: 400, count: 2 });
  const once = new FhirClient({ baseUrl: server.url, retryBaseMs: 1, timeoutMs: 150, maxRetries: 0 });
  await assert.rejects(() => once.searchPage('Patient'), (e) => isDfaError(e, 'FHIR_TIMEOUT'));
  server.clearFaults();
});

test('a plain create that times out is not repeated (no duplicate); a conditional one is', async () => {
  const c = new FhirClient({ baseUrl: server.url, retryBaseMs: 1, timeoutMs: 150 });
  const n0 = server.requestCount();
  server.injectFault({ delayMs: 400, count: 1 });
  await assert.rejects(() => c.create({ ...patient('no-dup'), name: [{ family: 'NoDup' }] }), (e) => isDfaError(e, 'FHIR_TIMEOUT'));
  await new Promise((r) => setTimeout(r, 400)); // the slow request still lands on the server
  assert.equal(server.requestCount() - n0, 1);
  assert.equal((await fhir.search('Patient', { family: 'NoDup' })).length, 1);
  server.injectFault({ delayMs: 400, count: 1 });
  const { resource } = await c.create({ ...patient('cond-dup'), name: [{ family: 'CondDup' }] }, { ifNoneExist: 'identifier=urn:mrn|cond-dup' });
  assert.ok(resource.id);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await fhir.search('Patient', { family: 'CondDup' })).length, 1);
});

test('an invalid resource is refused with the OperationOutcome text in the error', async () => {
  await assert.rejects(
    () => fhir.create({ resourceType: 'Observation', status: 'final' } as never),
    (e) => isDfaError(e, 'FHIR_HTTP_ERROR') && e.details['status'] === 400 && /Missing required property.*Observation\.code/.test(e.message),
  );
});

test('the server accepts unquoted and quoted If-Match alike', async () => {
  const { resource } = await fhir.create(patient('quotes'));
  const v = resource.meta!.versionId!;
  const put = (ifMatch: string, body: Patient) =>
    fetch(`${server.url}/Patient/${resource.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', 'if-match': ifMatch }, body: JSON.stringify(body) });
  const r1 = await put(v, { ...resource, active: true });
  assert.equal(r1.status, 200);
  const r2 = await put(v, { ...resource, active: false }); // stale, unquoted
  assert.equal(r2.status, 412);
  const cur = (await r1.json()) as Patient;
  const r3 = await put(`"${cur.meta?.versionId}"`, { ...resource, active: false });
  assert.equal(r3.status, 200);
});

test('/metadata serves a CapabilityStatement', async () => {
  const cs = await fhir.request<{ resourceType: string; fhirVersion: string }>('GET', 'metadata');
  assert.equal(cs.body.resourceType, 'CapabilityStatement');
  assert.equal(cs.body.fhirVersion, '4.0.1');
});

test('a restart keeps every resource and version', async () => {
  const { resource } = await fhir.create(patient('persist'));
  const updated = await fhir.update({ ...resource, active: true }, { ifMatch: resource.meta?.versionId });
  await server.stop();
  server = await startFhirServer({ dataDir: dir });
  fhir = new FhirClient({ baseUrl: server.url, retryBaseMs: 10, log });
  const back = await fhir.read<Patient>('Patient', resource.id);
  assert.equal(back.meta?.versionId, updated.meta?.versionId);
  assert.equal(back.active, true);
  assert.equal((await fhir.search('Patient', { family: 'Paged' })).length, 7);
});

test('a second server on the same data dir is refused while the first runs; a stale lock is taken over', async () => {
  await assert.rejects(() => startFhirServer({ dataDir: dir }), (e) => isDfaError(e, 'SERVICE_UNREACHABLE') && /in use|already open/.test(e.message));
  const other = await mkdtemp(join(tmpdir(), 'dfa-fhir-lock-'));
  try {
    // Left behind by a crashed run whose pid is ours now (a container restart) or no longer exists.
    for (const pid of [process.pid, 2 ** 22 + 1]) {
      await writeFile(join(other, 'fhir.lock'), String(pid));
      const s = await startFhirServer({ dataDir: other });
      await s.stop();
    }
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

test('Retry-After parsing: seconds and HTTP-date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(null), undefined);
  const d = parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) ?? -1;
  assert.ok(d > 3000 && d <= 5000);
});
