/**
 * DICOM TLS through the real CLI: `dfa pacs --tls` answers `dfa echo` with DFA_PACS_TLS (exit 0),
 * and a CA that did not sign its certificate gives exit 2 with the reason on stderr; `dfa scp` with
 * DFA_SCP_TLS answers dcmtk's `echoscu +tls`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../test/support/ports.ts';
import { REPO_ROOT } from '../../../test/support/testdata.ts';
import { makeTestPki, type TestPki } from '../../../test/support/tls-certs.ts';

const run = promisify(execFile);
const DFA = join(REPO_ROOT, 'bin', 'dfa.js');
let pki: TestPki;
let root: string;
before(async () => {
  pki = await makeTestPki();
  root = await mkdtemp(join(tmpdir(), 'dfa-tls-verbs-'));
});
after(async () => {
  await pki.remove();
  await rm(root, { recursive: true, force: true });
});

async function startVerb(args: string[], env: NodeJS.ProcessEnv): Promise<{ p: ChildProcess; err: () => string }> {
  const p = spawn(process.execPath, [DFA, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`dfa ${args[0]} exited ${code}: ${out}${err}`)));
  });
  return { p, err: () => err };
}
async function stop(p: ChildProcess): Promise<void> {
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

test('dfa pacs --tls answers dfa echo over TLS; an untrusted PACS certificate is exit 2 with the reason', async () => {
  const port = await freePort();
  const base = { ...process.env, DFA_DATA_DIR: join(root, 'pacs-data'), DFA_TLS_CA: pki.ca };
  const { p } = await startVerb(['pacs', '--port', String(port), '--tls'], { ...base, DFA_TLS_CERT: pki.server.cert, DFA_TLS_KEY: pki.server.key });
  try {
    const client = { ...base, DFA_DATA_DIR: join(root, 'client-data'), DFA_PACS_HOST: '127.0.0.1', DFA_PACS_PORT: String(port), DFA_PACS_AET: 'DFA_PACS', DFA_PACS_TLS: 'true',
      DFA_TLS_CERT: pki.client.cert, DFA_TLS_KEY: pki.client.key };
    const ok = await run(process.execPath, [DFA, 'echo'], { env: client });
    assert.match(ok.stdout, /C-ECHO DFA_PACS@127\.0\.0\.1:\d+ from AE DFA: Success/);
    const refused = await run(process.execPath, [DFA, 'echo'], { env: { ...client, DFA_TLS_CA: pki.otherCa } }).then(() => undefined, (e: { code?: number; stderr?: string }) => e);
    assert.equal(refused?.code, 2);
    assert.match(refused?.stderr ?? '', /TLS connection to DFA_PACS at 127\.0\.0\.1:\d+ refused: its certificate is not signed by a CA we trust: 'CN=localhost' \(issued by 'CN=DFA Test CA'.*add the CA that signed it to DFA_TLS_CA/);
  } finally {
    await stop(p);
  }
});

test('dfa scp with DFA_SCP_TLS answers echoscu +tls and refuses a plain echoscu', async () => {
  const port = await freePort();
  const env = { ...process.env, DFA_DATA_DIR: join(root, 'scp-data'), DFA_SCP_PORT: String(port), DFA_SCP_TLS: 'true',
    DFA_TLS_CERT: pki.server.cert, DFA_TLS_KEY: pki.server.key, DFA_TLS_CA: pki.ca, TCP_NODELAY: '1' };
  const { p, err } = await startVerb(['scp'], env);
  try {
    await run('echoscu', ['+tls', pki.client.key, pki.client.cert, '+cf', pki.ca, '-aec', 'DFA', '127.0.0.1', String(port)], { env });
    await assert.rejects(run('echoscu', ['-to', '5', '-aec', 'DFA', '127.0.0.1', String(port)], { env }));
  } finally {
    await stop(p);
  }
  assert.match(err(), /refused TLS connection from 127\.0\.0\.1:\d+: the client does not speak TLS/);
});
