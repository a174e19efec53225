/**
 * DICOM TLS from DFA_* settings: what the loader refuses (exit 2 with the setting to fix), and the
 * whole path from configuration to a TLS association: `dfa`'s PACS with DFA_PACS_TLS against our SCP
 * started with DFA_SCP_TLS, and a C-MOVE from the embedded PACS into that SCP over TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { freePort } from '../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { makeTestPki, type TestPki } from '../../test/support/tls-certs.ts';
import { pacsFromConfig } from './pacs-from-config.ts';
import { scpFromConfig } from './scp/receiver.ts';
import { checkOwnCertificate, tlsFromConfig } from './tls-from-config.ts';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await pki.remove();
});

const bad = (env: Record<string, string>, re: RegExp) =>
  assert.throws(() => tlsFromConfig(loadConfig(env)), (e: unknown) => isDfaError(e, 'CONFIG_INVALID') && re.test(e.message), JSON.stringify(env));

test('the loader refuses half or inconsistent TLS settings, naming them', () => {
  assert.throws(() => loadConfig({ DFA_TLS_CERT: pki.client.cert }), /DFA_TLS_CERT and DFA_TLS_KEY go together/);
  assert.throws(() => loadConfig({ DFA_SCP_TLS: 'true' }), /DFA_SCP_TLS needs DFA_TLS_CERT and DFA_TLS_KEY/);
  assert.throws(() => loadConfig({ DFA_SCP_TLS: 'true', DFA_TLS_CERT: pki.server.cert, DFA_TLS_KEY: pki.server.key }), /needs DFA_TLS_CA .* or set DFA_SCP_TLS_REQUIRE_CLIENT_CERT=false/);
  assert.throws(() => loadConfig({ DFA_TLS_MIN_VERSION: 'TLSv1.1' }), /DFA_TLS_MIN_VERSION/);
  assert.throws(() => loadConfig({ DFA_SCP_TLS_PORT: '2762' }), /DFA_SCP_TLS_PORT needs DFA_TLS_CERT/);
  assert.throws(() => loadConfig({ DFA_SCP_TLS: 'true', DFA_SCP_TLS_PORT: '2762', DFA_TLS_CERT: 'c', DFA_TLS_KEY: 'k', DFA_TLS_CA: 'a' }), /set one of them/);
  const c = loadConfig({});
  assert.deepEqual([c.DFA_PACS_TLS, c.DFA_SCP_TLS, c.DFA_SCP_TLS_REQUIRE_CLIENT_CERT, c.DFA_TLS_VERIFY_PEER, c.DFA_TLS_MIN_VERSION], [false, false, true, true, 'TLSv1.2']);
});

test('unreadable files, a key of another certificate and our own expired certificate stop start-up', async () => {
  bad({ DFA_TLS_CERT: '/nonexistent/cert.pem', DFA_TLS_KEY: pki.client.key }, /DFA_TLS_CERT: cannot read \/nonexistent\/cert\.pem: ENOENT/);
  bad({ DFA_TLS_CERT: pki.client.cert, DFA_TLS_KEY: pki.client.key, DFA_TLS_CA: '/nonexistent/ca.pem' }, /DFA_TLS_CA: cannot read/);
  bad({ DFA_TLS_CERT: pki.client.cert, DFA_TLS_KEY: pki.server.key }, /the private key does not belong to the certificate/);
  bad({ DFA_TLS_CERT: pki.expired.cert, DFA_TLS_KEY: pki.expired.key }, /DFA_TLS_CERT: our certificate 'CN=localhost' .* expired on Jan {1,2}1 00:00:00 2021 GMT: renew it/);
  const notPem = join(pki.dir, 'not.pem');
  await writeFile(notPem, 'hello');
  assert.throws(() => checkOwnCertificate(Buffer.from('hello'), notPem), /is not a PEM certificate/);
  const s = tlsFromConfig(loadConfig({ DFA_TLS_CERT: pki.client.cert, DFA_TLS_KEY: pki.client.key, DFA_TLS_CA: pki.ca, DFA_TLS_CHECK_HOSTNAME: 'false' }));
  assert.equal(s.checkHostname, false);
  assert.equal(s.ca?.length, 1);
});

test('configured end to end: DFA_PACS_TLS to a PACS node, and C-MOVE into our DFA_SCP_TLS SCP', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-tls-config-'));
  try {
    const scpPort = await freePort();
    const tlsEnv = { DFA_TLS_CERT: pki.server.cert, DFA_TLS_KEY: pki.server.key, DFA_TLS_CA: pki.ca };
    // The embedded PACS (plain, loopback) moves into our SCP over TLS when DFA_SCP_TLS is on.
    const config = loadConfig({ DFA_DATA_DIR: root, DFA_SCP_PORT: String(scpPort), DFA_SCP_TLS: 'true', DFA_RETRIEVE: 'c-move', ...tlsEnv });
    const scp = await scpFromConfig(config, { dir: join(root, 'inbox') }, memoryLogger('warn')).start();
    const embedded = await pacsFromConfig(config, memoryLogger('warn'), { scp });
    try {
      const file = join(root, 'one.dcm');
      await copyFile(join(CIP64_DICOM_DIR, 'IMG0001.dcm'), file);
      await embedded.store([file]);
      const study = (await embedded.findStudies({}))[0].studyInstanceUid;
      const moved = await embedded.retrieve({ studyInstanceUid: study }, join(root, 'moved'));
      assert.equal(moved.method, 'c-move', JSON.stringify(moved.attempts));
      assert.equal(moved.instances.length, 1);

      // A configured PACS with DFA_PACS_TLS: here our own SCP stands in for it.
      const client = loadConfig({ DFA_DATA_DIR: root, DFA_PACS_HOST: '127.0.0.1', DFA_PACS_PORT: String(scp.port), DFA_PACS_AET: 'DFA', DFA_AET: 'DFA', DFA_PACS_TLS: 'true',
        DFA_TLS_CERT: pki.client.cert, DFA_TLS_KEY: pki.client.key, DFA_TLS_CA: pki.ca });
      const viaTls = await pacsFromConfig(client, memoryLogger('warn'));
      await viaTls.echo();
      await viaTls.close();
      const plain = await pacsFromConfig({ ...client, DFA_PACS_TLS: false }, memoryLogger('warn'));
      await assert.rejects(plain.echo(), (e: unknown) => isDfaError(e));
      await plain.close();
    } finally {
      await embedded.close();
      await scp.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
