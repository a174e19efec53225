/**
 * Issue 10 §3: embedded servers bind loopback only, or carry credentials. Asked to listen on all
 * interfaces without them, the dev FHIR server, the DICOMweb server and the dev PACS refuse to start
 * (CONFIG_INVALID ⇒ exit 2); with credentials (or, for DIMSE, an AE allow-list) they start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDfaError } from '../../src/core/errors.ts';
import { isLoopbackHost } from '../../src/core/loopback.ts';
import { createLogger } from '../../src/core/log.ts';
import { DicomWebServer } from '../../src/dicom/dicomweb/server.ts';
import { EmbeddedPacs } from '../../src/dicom/embedded-pacs/embedded-pacs.ts';
import { PacsIndexStore } from '../../src/dicom/embedded-pacs/index-store.ts';
import { startFhirServer } from '../../src/fhir/dev-server/server.ts';

const log = createLogger({ level: 'error' });

test('loopback names', () => {
  for (const h of ['127.0.0.1', '127.0.0.53', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', 'dfa.hospital.org', '']) assert.ok(!isLoopbackHost(h), h);
});

test('on all interfaces without credentials: FHIR dev server, DICOMweb server and dev PACS refuse; with them they start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-bind-'));
  try {
    await assert.rejects(startFhirServer({ host: '0.0.0.0', port: 0 }), (e) => isDfaError(e, 'CONFIG_INVALID') && /needs credentials/.test(e.message));
    const fhir = await startFhirServer({ host: '0.0.0.0', port: 0, auth: { bearerTokens: ['t0123456789abcdef'] } });
    await fhir.stop();

    const store = await PacsIndexStore.open(join(dir, 'web'));
    await assert.rejects(DicomWebServer.start({ store, host: '0.0.0.0' }), (e) => isDfaError(e, 'CONFIG_INVALID'));
    const web = await DicomWebServer.start({ store, host: '0.0.0.0', auth: { token: 't0123456789abcdef' } });
    await web.close();

    await assert.rejects(EmbeddedPacs.start({ dir: join(dir, 'pacs'), host: '0.0.0.0', port: 0, log }), (e) => isDfaError(e, 'CONFIG_INVALID') && /allow-list/.test(e.message));
    // An AE-title list alone is not enough off loopback either: the SCP layer wants AE titles bound to
    // hosts (DFA_SCP_ALLOWED_PEERS, issue 10 §3), which the dev PACS does not take — it stays on loopback.
    await assert.rejects(EmbeddedPacs.start({ dir: join(dir, 'pacs'), host: '0.0.0.0', port: 0, log, allowedAets: ['DFA'] }), (e) => isDfaError(e, 'CONFIG_INVALID'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
