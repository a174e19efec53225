/**
 * The ImagingFhir contract through the fhir_handler over real HTTP (token auth, a free loopback
 * port), the embedded FHIR server behind it; then the service's own face: auth, OpenAPI, /ready
 * when FHIR is down, a 412 and a 503 as the same typed errors as in process, and the outage guard
 * seeing "FHIR" down when the service or the FHIR server behind it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '@medplum/fhirtypes';
import { httpProbe, outageGuardFromConfig } from '../../src/agent/outage-from-config.ts';
import { loadConfig } from '../../src/core/config.ts';
import { DfaError, isDfaError } from '../../src/core/errors.ts';
import { memoryLogger } from '../../src/core/log.ts';
import type { ImagingFhir, WorkItem } from '../../src/core/ports.ts';
import { FhirClient, type FhirClientOptions } from '../../src/fhir/client.ts';
import { startFhirServer } from '../../src/fhir/dev-server/server.ts';
import { FhirImagingWorkflow } from '../../src/fhir/imaging-workflow.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemoteFhir } from '../../src/remote/fhir.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { fhirService } from '../../src/services/fhir.ts';
import { startService, type RunningService } from '../../src/services/service-server.ts';
import { imagingFhirContract } from './imaging-fhir.contract.ts';

const TOKEN = 'contract-fhir-token-0123456789abc';
const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
const log = memoryLogger('warn');

/** A fhir_handler around a workflow, and the RemoteFhir that calls it. */
async function serve(workflow: ImagingFhir, client: FhirClient): Promise<{ remote: RemoteFhir; service: RunningService }> {
  const service = await startService(fhirService({ workflow, probe: () => client.request('GET', 'metadata') }), cfg, { host: '127.0.0.1', port: 0, version: 'test', log });
  return { remote: new RemoteFhir(new ServiceClient({ service: 'fhir_handler', baseUrl: service.url, auth: bearerAuth(TOKEN) })), service };
}

imagingFhirContract('through the fhir_handler over HTTP', async () => {
  const server = await startFhirServer();
  const fhir = new FhirClient({ baseUrl: server.url, retryBaseMs: 5 });
  const main = await serve(new FhirImagingWorkflow(fhir), fhir);
  const services = [main.service];
  return {
    fhir,
    workflow: main.remote,
    strict: async () => {
      const s = await serve(new FhirImagingWorkflow(fhir, { mrnSystem: 'urn:hospital:mrn' }), fhir);
      services.push(s.service);
      return s.remote;
    },
    close: async () => {
      for (const s of services) await s.close();
      await server.stop();
    },
  };
});

/** The outcome of a call: the error it threw (a DfaError), or a failure if it did not throw. */
async function thrown(p: Promise<unknown>): Promise<DfaError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  assert.ok(isDfaError(e), `expected a DfaError, got ${String(e)}`);
  return e;
}

test('fhir_handler: token required, OpenAPI, a 412 and a 503 as in process, /ready and the outage guard follow FHIR and the service', async () => {
  const server = await startFhirServer();
  const opts: FhirClientOptions = { baseUrl: server.url, retryBaseMs: 5, maxRetries: 1 };
  const fhir = new FhirClient(opts);
  const services: RunningService[] = [];
  try {
    const { remote, service } = await serve(new FhirImagingWorkflow(fhir), fhir);
    services.push(service);
    assert.equal((await fetch(`${service.url}/work/find`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"registered"}' })).status, 401);
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const p of ['/work/find', '/patients/find', '/patients/check', '/tasks/ensure', '/tasks/update', '/results']) assert.ok(doc.paths[p]?.['post'], `${p} in the OpenAPI document`);

    // A Task the job owns, and a writer that always gets in between our read and our PUT: 412 twice.
    const p = await fhir.create({ resourceType: 'Patient', identifier: [{ value: 'PID-412' }] });
    const s = await fhir.create({ resourceType: 'ImagingStudy', status: 'registered', subject: { reference: `Patient/${p.resource.id}` }, identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:2.25.412' }] });
    const item: WorkItem = { imagingStudy: `ImagingStudy/${s.resource.id}`, studyInstanceUid: '2.25.412', patient: `Patient/${p.resource.id}`, modalities: ['CT'], seriesUids: [] };
    const task = await remote.ensureTask(item, 'job-412');
    const racing: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT') {
        const cur = await fhir.readReference<Task>(task);
        await fhir.update({ ...cur, note: [{ text: `raced at ${Date.now()}` }] }, { ifMatch: cur.meta?.versionId });
      }
      return fetch(input, init);
    };
    const racingFhir = new FhirClient({ ...opts, fetch: racing });
    const raced = await serve(new FhirImagingWorkflow(racingFhir), racingFhir);
    services.push(raced.service);
    const local412 = await thrown(new FhirImagingWorkflow(racingFhir).updateTask(task, 'in-progress'));
    const remote412 = await thrown(raced.remote.updateTask(task, 'in-progress'));
    assert.equal(local412.code, 'FHIR_CONFLICT');
    assert.equal(local412.details['status'], 412);
    assert.equal(remote412.code, local412.code);
    assert.equal(remote412.details['status'], 412, 'the FHIR status survives the wire');
    assert.equal(remote412.message.replace(/\/_history\/\d+/, ''), local412.message.replace(/\/_history\/\d+/, ''));

    // A FHIR server in maintenance answers 503 (the dev server's fault injection): FHIR_UNAVAILABLE both ways.
    const guard = outageGuardFromConfig(loadConfig({}), { fhirServiceReadyUrl: `${service.url}/ready` }, log);
    try {
      assert.deepEqual(await guard.down(['fhir']), []);
      server.injectFault({ status: 503, retryAfterS: 0, count: 100 });
      const local503 = await thrown(new FhirImagingWorkflow(fhir).findWork({ status: 'registered' }));
      const remote503 = await thrown(remote.findWork({ status: 'registered' }));
      assert.equal(local503.code, 'FHIR_UNAVAILABLE');
      assert.equal(remote503.code, local503.code);
      assert.equal(remote503.message, local503.message);
      const ready = await fetch(`${service.url}/ready`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks['fhir']?.ok, false);
      assert.deepEqual(await guard.down(['fhir']), ['fhir'], 'FHIR behind the service in maintenance: FHIR is down');
    } finally {
      guard.close();
      server.clearFaults();
    }

    // The service itself down: to a job, FHIR is unavailable (and its probe fails).
    const probe = httpProbe(`${raced.service.url}/ready`);
    await probe(AbortSignal.timeout(3000));
    await raced.service.close();
    services.splice(services.indexOf(raced.service), 1);
    const down = await thrown(raced.remote.findWork({ status: 'registered' }));
    assert.equal(down.code, 'FHIR_UNAVAILABLE');
    assert.match(down.message, /fhir_handler at http:\/\/127\.0\.0\.1/);
    await assert.rejects(probe(AbortSignal.timeout(3000)));

    // The FHIR server stopped: the service answers FHIR_UNAVAILABLE and /ready says so.
    await server.stop();
    assert.equal((await thrown(remote.findPatients({ identifier: 'PID-412' }))).code, 'FHIR_UNAVAILABLE');
    assert.equal((await fetch(`${service.url}/ready`)).status, 503);
  } finally {
    for (const x of services) await x.close();
    await server.stop().catch(() => undefined);
  }
});
