/**
 * DICOM over TLS between our SCU and our SCP (PS3.15 B.1 / B.9), with certificates made by the
 * openssl CLI: mutual TLS works (C-ECHO, C-STORE, C-GET); an expired certificate, one from an
 * untrusted CA, a missing client certificate, plain DICOM to a TLS port and TLS to a plain port are
 * each refused with a message that says which.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { makeTestPki, type TestPki } from '../../../test/support/tls-certs.ts';
import { EmbeddedPacs } from '../embedded-pacs/embedded-pacs.ts';
import { DicomServer } from '../scp/server.ts';
import { DimseClient } from './scu.ts';
import type { TlsSettings } from './tls.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';

const quick = { connectMs: 3000, associationMs: 3000, dimseMs: 5000, idleMs: 5000 };
let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await pki.remove();
});

async function tlsScp(tls: TlsSettings) {
  const log = memoryLogger('debug');
  const server = await new DicomServer({ aet: 'TLS_SCP', port: 0, log, timeouts: quick, tls, handlers: { onStore: async () => 0 } }).start();
  return { server, log };
}
const client = (port: number, tls?: TlsSettings) =>
  new DimseClient({ host: '127.0.0.1', port, calledAet: 'TLS_SCP', callingAet: 'DFA', timeouts: quick, ...(tls ? { tls } : {}) });

test('mutual TLS: C-ECHO succeeds with BCP 195 parameters, and the SCP saw TLS 1.3', async () => {
  const { server, log } = await tlsScp(await pki.settings(pki.server));
  try {
    const s = await client(server.port, await pki.settings(pki.client)).echo();
    assert.equal(s.kind, 'success');
    assert.ok(log.lines.some((l) => /TLS connection .*protocol=TLSv1\.3 cipher=TLS_AES_128_GCM_SHA256/.test(l)), log.lines.join('\n'));
    assert.equal(server.tlsRefused, 0);
  } finally {
    await server.close();
  }
});

test('TLS 1.2 is negotiated only with a BCP 195 cipher suite (ECDHE/DHE + AES-GCM); a non-forward-secret suite is refused', async () => {
  const { server } = await tlsScp(await pki.settings(pki.server, pki.ca, { requireClientCert: false }));
  const hello = (ciphers: string) => new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers });
    s.once('secureConnect', () => {
      const got = `${s.getProtocol() ?? '?'} ${s.getCipher().name}`;
      s.destroy();
      resolve(got);
    });
    s.once('error', reject);
  });
  try {
    assert.match(await hello('ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA256'), /^TLSv1\.2 ECDHE-RSA-AES256-GCM-SHA384$/);
    await assert.rejects(hello('AES128-SHA256:AES256-GCM-SHA384'), /handshake failure|no shared cipher/i);
  } finally {
    await server.close();
  }
});

test('C-STORE and C-GET over mutual TLS with the embedded PACS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-tls-pacs-'));
  const pacs = await EmbeddedPacs.start({ dir: join(dir, 'pacs'), aet: 'TLS_SCP', port: 0, log: memoryLogger('error'), timeouts: quick, tls: await pki.settings(pki.server) });
  try {
    const c = client(pacs.port, await pki.settings(pki.client));
    const files = ['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm'].map((f) => join(CIP64_DICOM_DIR, f));
    const stored = await c.store(files);
    assert.deepEqual(stored.map((r) => r.status.kind), ['success', 'success', 'success']);
    const got: string[] = [];
    const r = await c.get({ studyInstanceUid: pacs.store.instances()[0].StudyInstanceUID }, async (i) => {
      got.push(i.sopInstanceUid);
      return 0;
    });
    assert.equal(r.kind, 'success');
    assert.deepEqual(got.sort(), stored.map((x) => x.sopInstanceUid).sort());
  } finally {
    await pacs.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('our SCU refuses an expired server certificate and says so, with its dates', async () => {
  const { server } = await tlsScp(await pki.settings(pki.expired));
  try {
    await assert.rejects(client(server.port, await pki.settings(pki.client)).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /TLS connection to TLS_SCP at 127\.0\.0\.1:\d+ refused: its certificate has expired: 'CN=localhost'/.test(e.message) && /2021/.test(e.message) && /renew/.test(e.message));
  } finally {
    await server.close();
  }
});

test('our SCU refuses a server certificate from a CA it does not trust and names DFA_TLS_CA', async () => {
  const { server } = await tlsScp(await pki.settings(pki.rogue, pki.ca));
  try {
    await assert.rejects(client(server.port, await pki.settings(pki.client)).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /not signed by a CA we trust/.test(e.message) && /Untrusted CA/.test(e.message) && /DFA_TLS_CA/.test(e.message));
    // Trusting that CA is the fix.
    assert.equal((await client(server.port, await pki.settings(pki.client, pki.otherCa)).echo()).kind, 'success');
  } finally {
    await server.close();
  }
});

test('our SCP refuses a client certificate that has expired, and both sides say so', async () => {
  const { server, log } = await tlsScp(await pki.settings(pki.server));
  try {
    await assert.rejects(client(server.port, await pki.settings(pki.expired)).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /refused our certificate|refused: it closed the TLS connection right after the handshake/.test(e.message));
    await waitFor(() => server.tlsRefused > 0);
    assert.ok(log.lines.some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: the client's certificate 'CN=localhost' \(issued by 'CN=DFA Test CA', valid Jan {1,2}1 00:00:00 2020 GMT to Jan {1,2}1 00:00:00 2021 GMT\) was refused: its certificate has expired \(CERT_HAS_EXPIRED\)/.test(l)), log.lines.join('\n'));
  } finally {
    await server.close();
  }
});

test('our SCP refuses a client certificate from an untrusted CA, and a client without a certificate', async () => {
  const { server, log } = await tlsScp(await pki.settings(pki.server));
  try {
    await assert.rejects(client(server.port, await pki.settings(pki.rogue)).echo(), (e: unknown) => isDfaError(e, 'DICOM_TLS_FAILED'));
    await waitFor(() => server.tlsRefused > 0);
    assert.ok(log.lines.some((l) => /the client's certificate 'CN=localhost' \(issued by 'CN=Untrusted CA'.* was refused: its certificate is not signed by a CA we trust/.test(l)), log.lines.join('\n'));
    await assert.rejects(client(server.port, await pki.settings(undefined)).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /refused our certificate .* or requires one/.test(e.message));
    await waitFor(() => log.lines.some((l) => /the client sent no certificate and this SCP requires one/.test(l)));
    // Without mutual TLS the same client is welcome.
    const open = await tlsScp(await pki.settings(pki.server, pki.ca, { requireClientCert: false }));
    try {
      assert.equal((await client(open.server.port, await pki.settings(undefined)).echo()).kind, 'success');
    } finally {
      await open.server.close();
    }
  } finally {
    await server.close();
  }
});

test('plain DICOM to a TLS port, and TLS to a plain port, are refused as such', async () => {
  const { server, log } = await tlsScp(await pki.settings(pki.server));
  // This SCP gives up on the TLS ClientHello (not a PDU) after its ARTIM timeout and aborts.
  const plain = await new DicomServer({ aet: 'TLS_SCP', port: 0, log: memoryLogger('error'), timeouts: { ...quick, associationMs: 300 }, handlers: {} }).start();
  try {
    await assert.rejects(client(server.port).echo(), (e: unknown) => isDfaError(e));
    await waitFor(() => log.lines.some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: the client does not speak TLS \(plain DICOM sent to a TLS port\)/.test(l)));
    await assert.rejects(client(plain.port, await pki.settings(pki.client)).echo(), (e: unknown) =>
      isDfaError(e, 'DICOM_TLS_FAILED') && /does not speak TLS on this port|closed the connection during the TLS handshake/.test(e.message));
  } finally {
    await server.close();
    await plain.close();
  }
});

test('one SCP, two ports: plain DICOM on its port, TLS (mutual) on tlsPort', async () => {
  const log = memoryLogger('debug');
  const server = await new DicomServer({ aet: 'TLS_SCP', port: 0, tlsPort: 0, log, timeouts: quick, handlers: {}, tls: await pki.settings(pki.server) }).start();
  try {
    assert.ok(server.tlsPort > 0 && server.tlsPort !== server.port);
    assert.equal((await client(server.port).echo()).kind, 'success');
    assert.equal((await client(server.tlsPort, await pki.settings(pki.client)).echo()).kind, 'success');
    await assert.rejects(client(server.tlsPort).echo(), (e: unknown) => isDfaError(e));
    await assert.rejects(client(server.tlsPort, await pki.settings(pki.expired)).echo(), (e: unknown) => isDfaError(e, 'DICOM_TLS_FAILED'));
    assert.equal(server.accepted, 2);
  } finally {
    await server.close();
  }
});

test('a host name the server certificate does not hold is refused unless hostname checks are off', async () => {
  // 127.0.0.2 is loopback too, but the certificate names 127.0.0.1 and localhost only.
  const server = await new DicomServer({ aet: 'TLS_SCP', host: '127.0.0.2', port: 0, log: memoryLogger('error'), timeouts: quick, handlers: {},
    tls: await pki.settings(pki.server, pki.ca, { requireClientCert: false }) }).start();
  try {
    const ca = (await pki.settings(undefined)).ca;
    const c = (extra: Partial<TlsSettings>) => new DimseClient({ host: '127.0.0.2', port: server.port, calledAet: 'TLS_SCP', callingAet: 'DFA', timeouts: quick, tls: { ca, ...extra } });
    await assert.rejects(c({}).echo(), (e: unknown) => isDfaError(e, 'DICOM_TLS_FAILED') && /does not name the host/.test(e.message) && /DFA_TLS_CHECK_HOSTNAME=false/.test(e.message));
    assert.equal((await c({ checkHostname: false }).echo()).kind, 'success');
  } finally {
    await server.close();
  }
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), 'condition not reached within 2 s');
}
