/**
 * DICOM TLS against a real Orthanc 1.10 (DicomTlsEnabled, mutual TLS), both directions: our SCU
 * runs C-ECHO, C-STORE, C-FIND and C-GET over TLS; Orthanc sends a C-MOVE to our SCP over TLS
 * (UseDicomTls on our modality entry). A PACS certificate from a CA we do not trust, an expired one,
 * and our own expired client certificate are each refused with a message saying exactly that.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { startOrthanc, type OrthancHandle } from '../../test/support/orthanc.ts';
import { freePort } from '../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { makeTestPki, type CertFiles, type TestPki } from '../../test/support/tls-certs.ts';
import type { TlsSettings } from './dimse/tls.ts';
import { createPacs } from './pacs.ts';

let pki: TestPki;
let scratch: string;
before(async () => {
  pki = await makeTestPki();
  scratch = await mkdtemp(join(tmpdir(), 'dfa-orthanc-tls-'));
});
after(async () => {
  await pki.remove();
  await rm(scratch, { recursive: true, force: true });
});

const quick = { connectMs: 5000, associationMs: 5000, dimseMs: 20000, idleMs: 20000 };

async function tlsOrthanc(leaf: CertFiles, ourScpPort: number): Promise<OrthancHandle> {
  return startOrthanc({
    modalities: { dfa: { aet: 'DFA', port: ourScpPort, tls: true } },
    extraConfig: {
      DicomTlsEnabled: true,
      DicomTlsCertificate: leaf.cert,
      DicomTlsPrivateKey: leaf.key,
      DicomTlsTrustedCertificates: pki.ca,
      DicomTlsRemoteCertificateRequired: true,
    },
  });
}

function pacsFor(o: OrthancHandle, tls: TlsSettings, scpPort: number, scpTls: TlsSettings) {
  return createPacs({
    dimse: { host: '127.0.0.1', port: o.dicomPort, calledAet: o.aet, callingAet: 'DFA', timeouts: quick, tls },
    retrieve: ['c-get'],
    store: 'c-store',
    moveScp: { host: '127.0.0.1', port: scpPort, inboxDir: join(scratch, 'inbox'), tls: scpTls },
    log: memoryLogger('error'),
  });
}

test('Orthanc with DICOM TLS: C-ECHO, C-STORE, C-FIND and C-GET from us, C-MOVE from Orthanc to our TLS SCP', async () => {
  const scpPort = await freePort();
  const orthanc = await tlsOrthanc(pki.server, scpPort);
  const clientTls = await pki.settings(pki.client);
  const pacs = pacsFor(orthanc, clientTls, scpPort, await pki.settings(pki.server));
  try {
    await pacs.echo();
    const files = (await readdir(CIP64_DICOM_DIR)).filter((f) => f.endsWith('.dcm')).slice(0, 5).map((f) => join(CIP64_DICOM_DIR, f));
    const stored = await pacs.store(files);
    assert.deepEqual(stored.map((s) => s.ok), [true, true, true, true, true]);
    const studies = await pacs.findStudies({});
    assert.equal(studies.length, 1);
    const study = studies[0].studyInstanceUid;

    const got = await pacs.retrieve({ studyInstanceUid: study }, join(scratch, 'get'));
    assert.equal(got.method, 'c-get');
    assert.equal(got.instances.length, 5);

    // Orthanc → us: C-MOVE sub-operations arrive at our SCP over TLS (Orthanc presents its certificate).
    const moving = createPacs({
      dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'DFA', timeouts: quick, tls: clientTls },
      retrieve: ['c-move'], store: 'c-store',
      moveScp: { host: '127.0.0.1', port: scpPort, inboxDir: join(scratch, 'inbox'), tls: await pki.settings(pki.server) },
      log: memoryLogger('error'),
    });
    try {
      const moved = await moving.retrieve({ studyInstanceUid: study }, join(scratch, 'move'));
      assert.equal(moved.method, 'c-move', JSON.stringify(moved.attempts));
      assert.equal(moved.instances.length, 5);
    } finally {
      await moving.close();
    }
  } finally {
    await pacs.close();
    await orthanc.stop();
  }
});

test('Orthanc refusing our expired client certificate is reported as such; plain DICOM to its TLS port gets no association', async () => {
  const orthanc = await tlsOrthanc(pki.server, 1);
  try {
    const expired = pacsFor(orthanc, await pki.settings(pki.expired), 1, {});
    await assert.rejects(expired.echo(), (e: unknown) => isDfaError(e, 'DICOM_TLS_FAILED') && /refused our certificate/.test(e.message), 'expired client certificate');
    // Orthanc waits for a ClientHello and never answers plain DICOM: our association timer ends it.
    const plainTimeouts = { ...quick, associationMs: 1000 };
    const plain = createPacs({ dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'DFA', timeouts: plainTimeouts }, retrieve: ['c-get'], store: 'c-store', log: memoryLogger('error') });
    await assert.rejects(plain.echo(), (e: unknown) => isDfaError(e, 'DICOM_TIMEOUT') || isDfaError(e, 'DICOM_ASSOCIATION_REJECTED'), 'plain DICOM to a TLS port');
  } finally {
    await orthanc.stop();
  }
});

test('a PACS certificate from an untrusted CA, or expired, is refused by our SCU with that reason', async () => {
  const rogue = await tlsOrthanc(pki.rogue, 1);
  try {
    await assert.rejects(pacsFor(rogue, await pki.settings(pki.client), 1, {}).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /its certificate is not signed by a CA we trust: 'CN=localhost' \(issued by 'CN=Untrusted CA'/.test(e.message));
  } finally {
    await rogue.stop();
  }
  const expired = await tlsOrthanc(pki.expired, 1);
  try {
    await assert.rejects(pacsFor(expired, await pki.settings(pki.client), 1, {}).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /its certificate has expired: 'CN=localhost'.*to Jan {1,2}1 00:00:00 2021 GMT/.test(e.message));
  } finally {
    await expired.stop();
  }
});

test('Orthanc → us: a C-MOVE from an Orthanc whose certificate our SCP does not trust is refused, and our log says why', async () => {
  const scpPort = await freePort();
  const orthanc = await tlsOrthanc(pki.rogue, scpPort);
  const log = memoryLogger('debug');
  // Our SCU trusts both CAs (to reach this Orthanc at all); our SCP trusts only the test CA.
  const both = { ...(await pki.settings(pki.client)), ca: [await readFile(pki.ca), await readFile(pki.otherCa)] };
  const pacs = createPacs({
    dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'DFA', timeouts: quick, tls: both },
    retrieve: ['c-move'], store: 'c-store',
    moveScp: { host: '127.0.0.1', port: scpPort, inboxDir: join(scratch, 'inbox-refused'), tls: await pki.settings(pki.server) },
    log,
  });
  try {
    const stored = await pacs.store([join(CIP64_DICOM_DIR, 'IMG0001.dcm')]);
    assert.equal(stored[0].ok, true);
    const study = (await pacs.findStudies({}))[0].studyInstanceUid;
    await assert.rejects(pacs.retrieve({ studyInstanceUid: study }, join(scratch, 'refused')), (e: unknown) =>
      isDfaError(e) && /our SCP refused \d+ TLS connection\(s\) meanwhile/.test(e.message));
    assert.ok(log.lines.some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: the client's certificate 'CN=localhost' \(issued by 'CN=Untrusted CA'.* not signed by a CA we trust/.test(l)), log.lines.join('\n'));
  } finally {
    await pacs.close();
    await orthanc.stop();
  }
});
