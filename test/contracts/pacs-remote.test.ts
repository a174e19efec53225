/**
 * The Pacs contract through the dicom_handler over real HTTP (token auth, a free loopback port),
 * a real Orthanc behind it, DICOM data by key through an artifact store both sides share; then the
 * service's own face: auth, OpenAPI, /ready when the PACS is down, and typed errors across the wire.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import { isDfaError } from '../../src/core/errors.ts';
import { memoryLogger } from '../../src/core/log.ts';
import type { Pacs } from '../../src/core/ports.ts';
import { outageGuardFromConfig } from '../../src/agent/outage-from-config.ts';
import type { DicomPacs } from '../../src/dicom/pacs.ts';
import { bearerAuth } from '../../src/net/http-auth.ts';
import { RemotePacs } from '../../src/remote/pacs.ts';
import { ServiceClient } from '../../src/remote/service-client.ts';
import { dicomService } from '../../src/services/dicom.ts';
import { startService, type RunningService } from '../../src/services/service-server.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';
import { CIP64_FACTS, orthancPacsFixture } from '../support/orthanc-pacs-fixture.ts';
import { pacsContract, type PacsFixture } from './pacs.contract.ts';

const TOKEN = 'contract-dicom-token-0123456789ab';
const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
const log = memoryLogger('warn');
const root = await mkdtemp(join(tmpdir(), 'dfa-dicom-remote-'));
const store = new LocalArtifactStore(join(root, 'artifacts'));
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** One dicom_handler in front of an in-process Pacs, and the RemotePacs that calls it. */
async function serve(pacs: DicomPacs, services: RunningService[]): Promise<{ remote: RemotePacs; service: RunningService }> {
  const service = await startService(dicomService({ pacs, store, log, close: () => pacs.close() }), cfg, { host: '127.0.0.1', port: 0, version: 'test', log });
  services.push(service);
  const client = new ServiceClient({ service: 'dicom_handler', baseUrl: service.url, auth: bearerAuth(TOKEN) });
  return { remote: new RemotePacs({ client, store, log }), service };
}

/** The Orthanc fixture with each of its Pacs configurations behind a dicom_handler of its own. */
async function remoteFixture(): Promise<PacsFixture> {
  const local = await orthancPacsFixture();
  const services: RunningService[] = [];
  const remote = async (p: DicomPacs): Promise<Pacs> => (await serve(p, services)).remote;
  return {
    node: local.node,
    pacs: (r) => remote(local.pacs(r)),
    noGetPacs: (r) => remote(local.noGetPacs(r)),
    unknownDestinationPacs: () => remote(local.unknownDestinationPacs()),
    strangerPacs: async () => {
      const s = local.strangerPacs();
      return { pacs: await remote(s.pacs), callingAet: s.callingAet };
    },
    wrongCalledAetPacs: () => remote(local.wrongCalledAetPacs()),
    async close() {
      for (const s of services) await s.close();
      await local.close();
      // Retrievals and stores went by key through the store; nothing is left behind.
      assert.deepEqual(await store.list('dicom'), [], 'the per-call prefixes are removed');
    },
  };
}

pacsContract('Orthanc through the dicom_handler over HTTP', remoteFixture, CIP64_FACTS);

test('dicom_handler: token required, OpenAPI lists the routes, /ready follows the PACS, PACS faults keep their codes, a down service is SERVICE_UNAVAILABLE', async () => {
  const local = await orthancPacsFixture();
  const services: RunningService[] = [];
  try {
    const { remote, service } = await serve(local.pacs(['c-get']), services);
    const noToken = await fetch(`${service.url}/echo`, { method: 'POST' });
    assert.equal(noToken.status, 401);
    const wrong = new RemotePacs({ client: new ServiceClient({ service: 'dicom_handler', baseUrl: service.url, auth: bearerAuth('not-the-token-at-all-x') }), store, log });
    await assert.rejects(wrong.echo(), (e) => isDfaError(e, 'API_UNAUTHENTICATED'));

    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const p of ['/echo', '/find/studies', '/find/series', '/find/instances', '/retrieve', '/store']) assert.ok(doc.paths[p]?.['post'], `${p} in the OpenAPI document`);
    assert.ok(doc.paths['/ready']?.['get'] && doc.paths['/health']?.['get']);

    await remote.echo();
    assert.equal((await fetch(`${service.url}/ready`)).status, 200);
    const guard = outageGuardFromConfig(loadConfig({}), { dimseEcho: () => remote.echo() }, log);
    try {
      assert.deepEqual(await guard.down(['pacs']), []);
      await local.orthanc.halt();
      const ready = await fetch(`${service.url}/ready`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
      assert.equal(body.ready, false);
      assert.equal(body.checks['pacs']?.ok, false);
      assert.ok(body.checks['pacs']?.detail, 'the check says why');
      // The PACS's own fault, with its own code, as the in-process Pacs throws it.
      const inProcess = await local.pacs(['c-get']).echo().then(() => undefined, (e: unknown) => e);
      assert.ok(isDfaError(inProcess), String(inProcess));
      await assert.rejects(remote.echo(), (e) => isDfaError(e, inProcess.code) && e.message === inProcess.message);
      await assert.rejects(remote.findStudies({}), (e) => isDfaError(e, inProcess.code));
      assert.deepEqual(await guard.down(['pacs']), ['pacs'], 'the outage guard sees the PACS down through the service');
      await local.orthanc.start();
      assert.equal((await fetch(`${service.url}/ready`)).status, 200);
    } finally {
      guard.close();
    }

    const bad = await fetch(`${service.url}/retrieve`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ studyInstanceUid: '1.2', prefix: '../etc' }) });
    assert.equal(bad.status, 400, 'a prefix that leaves the store is refused');
    await assert.rejects(remote.store([join(root, 'no-such-file.dcm')]), (e) => (e as NodeJS.ErrnoException).code === 'ENOENT');

    await service.close();
    services.length = 0;
    await assert.rejects(remote.echo(), (e) => isDfaError(e, 'SERVICE_UNAVAILABLE') && /dicom_handler at http:\/\/127\.0\.0\.1/.test(e.message));
    const scratch = join(root, 'never');
    await assert.rejects(remote.retrieve({ studyInstanceUid: '1.2.3' }, scratch), (e) => isDfaError(e, 'SERVICE_UNAVAILABLE'));
    assert.deepEqual(await readdir(scratch).catch(() => []), [], 'nothing half-retrieved');
  } finally {
    for (const s of services) await s.close();
    await local.close();
  }
});
