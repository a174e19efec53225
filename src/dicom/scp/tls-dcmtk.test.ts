/**
 * DICOM TLS interoperability with dcmtk (`+tls key cert +cf ca`, its default BCP 195
 * non-downgrading profile), both directions: echoscu / storescu to our SCP, getscu from the embedded
 * PACS, our SCU to a dcmtk storescp. dcmtk with an expired certificate, or trusting another CA, is
 * refused, and our log says why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryLogger } from '../../core/log.ts';
import { freePort } from '../../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { makeTestPki, type CertFiles, type TestPki } from '../../../test/support/tls-certs.ts';
import { DimseClient } from '../dimse/scu.ts';
import { EmbeddedPacs } from '../embedded-pacs/embedded-pacs.ts';
import { DicomScp } from './receiver.ts';

const run = promisify(execFile);
const env = { ...process.env, TCP_NODELAY: '1' };
const quick = { connectMs: 5000, associationMs: 5000, dimseMs: 20000, idleMs: 20000 };
let pki: TestPki;
let dir: string;
before(async () => {
  pki = await makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'dfa-tls-dcmtk-'));
});
after(async () => {
  await pki.remove();
  await rm(dir, { recursive: true, force: true });
});

/** dcmtk's TLS arguments: our key and certificate, the CA it trusts. */
const tlsArgs = (leaf: CertFiles, ca = pki.ca) => ['+tls', leaf.key, leaf.cert, '+cf', ca];
const cip = (n: number) => Array.from({ length: n }, (_, i) => join(CIP64_DICOM_DIR, `IMG${String(i + 1).padStart(4, '0')}.dcm`));

async function ourScp(sub: string) {
  const log = memoryLogger('debug');
  const scp = await new DicomScp({ aet: 'DFA', port: 0, host: '127.0.0.1', sink: { dir: join(dir, sub) }, log, timeouts: quick, tls: await pki.settings(pki.server) }).start();
  return { scp, log };
}

test('dcmtk echoscu and storescu over mutual TLS to our SCP', async () => {
  const { scp } = await ourScp('inbox1');
  try {
    await run('echoscu', [...tlsArgs(pki.client), '-aet', 'DCMTK', '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env });
    await run('storescu', [...tlsArgs(pki.client), '-aet', 'DCMTK', '-aec', 'DFA', '127.0.0.1', String(scp.port), ...cip(4)], { env });
    assert.equal(scp.inbox.length, 4);
    assert.equal(scp.server.tlsRefused, 0);
  } finally {
    await scp.close();
  }
});

// dcmtk 3.6.7 (Debian 12) has no TLS in getscu or movescu; findscu has it, and the embedded PACS's
// C-MOVE sub-operations reach a dcmtk storescp over TLS (KnownAe.tls, like Orthanc's UseDicomTls).
test('dcmtk findscu over mutual TLS to the embedded PACS, whose C-MOVE reaches a dcmtk storescp +tls', async () => {
  const scpPort = await freePort();
  const out = join(dir, 'moved');
  await run('mkdir', ['-p', out]);
  const storescp = spawn('storescp', [...tlsArgs(pki.server), '-aet', 'STORESCP', '-od', out, String(scpPort)], { env, stdio: 'ignore' });
  const pacs = await EmbeddedPacs.start({
    dir: join(dir, 'pacs'), aet: 'DFA_PACS', port: 0, log: memoryLogger('error'), timeouts: quick, tls: await pki.settings(pki.server),
    knownAes: { STORESCP: { host: '127.0.0.1', port: scpPort, tls: await pki.settings(pki.client) } },
  });
  try {
    const c = new DimseClient({ host: '127.0.0.1', port: pacs.port, calledAet: 'DFA_PACS', callingAet: 'DFA', timeouts: quick, tls: await pki.settings(pki.client) });
    await c.store(cip(6));
    const study = pacs.store.instances()[0].StudyInstanceUID;
    const found = await run('findscu', [...tlsArgs(pki.client), '-S', '-aet', 'DCMTK', '-aec', 'DFA_PACS', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '127.0.0.1', String(pacs.port)], { env });
    assert.match(found.stderr, new RegExp(study.replace(/\./g, '\\.')));
    const toStorescp = new DimseClient({ host: '127.0.0.1', port: scpPort, calledAet: 'STORESCP', callingAet: 'DFA', timeouts: quick, tls: await pki.settings(pki.client) });
    await waitFor(() => toStorescp.echo().then((x) => x.kind === 'success', () => false)); // storescp is up
    const r = await c.move({ studyInstanceUid: study }, 'STORESCP');
    assert.equal(r.kind, 'success', JSON.stringify(r));
    assert.equal(r.completed, 6);
    assert.equal((await readdir(out)).length, 6);
  } finally {
    await pacs.close();
    storescp.kill();
  }
});

test('dcmtk with an expired certificate is refused by our SCP, and the log says it expired', async () => {
  const { scp, log } = await ourScp('inbox2');
  try {
    await assert.rejects(run('echoscu', [...tlsArgs(pki.expired), '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env }));
    assert.ok(log.lines.some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: the client's certificate .* was refused: its certificate has expired/.test(l)), log.lines.join('\n'));
  } finally {
    await scp.close();
  }
});

test('dcmtk trusting another CA refuses our SCP certificate; one from an untrusted CA is refused by us', async () => {
  const { scp, log } = await ourScp('inbox3');
  try {
    const r = await run('echoscu', [...tlsArgs(pki.client, pki.otherCa), '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env }).then(() => undefined, (e: { stderr?: string }) => e);
    assert.ok(r, 'echoscu must fail');
    assert.match(r.stderr ?? '', /certificate verify failed|unable to get local issuer|TLS/i);
    await waitFor(() => log.lines.some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: the peer refused our certificate: it does not trust the CA that signed it/.test(l)));
    await assert.rejects(run('echoscu', [...tlsArgs(pki.rogue), '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env }));
    assert.ok(log.lines.some((l) => /the client's certificate 'CN=localhost' \(issued by 'CN=Untrusted CA'.* is not signed by a CA we trust/.test(l)), log.lines.join('\n'));
  } finally {
    await scp.close();
  }
});

test('our SCU over TLS to a dcmtk storescp (+tls): C-ECHO and C-STORE', async () => {
  const port = await freePort();
  const out = join(dir, 'storescp');
  await run('mkdir', ['-p', out]);
  const p = spawn('storescp', [...tlsArgs(pki.server), '-aet', 'STORESCP', '-od', out, String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const c = new DimseClient({ host: '127.0.0.1', port, calledAet: 'STORESCP', callingAet: 'DFA', timeouts: quick, tls: await pki.settings(pki.client) });
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await c.echo().then((s) => s.kind === 'success', () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, `storescp did not answer C-ECHO over TLS: ${stderr}`);
    const stored = await c.store(cip(3));
    assert.deepEqual(stored.map((s) => s.status.kind), ['success', 'success', 'success']);
    assert.equal((await readdir(out)).length, 3);
  } finally {
    p.kill();
  }
});

async function waitFor(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(await cond(), 'condition not reached within 2 s');
}
