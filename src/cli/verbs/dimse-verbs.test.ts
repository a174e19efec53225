/** dfa store / find / retrieve / echo on the embedded dev PACS, and `dfa pacs` answering dcmtk's echoscu/findscu. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../core/config.ts';
import { memoryLogger } from '../../core/log.ts';
import { freePort } from '../../../test/support/ports.ts';
import { CIP64_DICOM_DIR, REPO_ROOT } from '../../../test/support/testdata.ts';
import { main } from '../main.ts';

const run = promisify(execFile);

test('dfa store, find, retrieve (c-get and c-move) and echo against the embedded dev PACS', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-dimse-verbs-'));
  try {
    const config = loadConfig({ DFA_DATA_DIR: join(root, 'data'), DFA_SCP_PORT: String(await freePort()) });
    const lines: string[] = [];
    const ctx = { config, out: (s: string) => lines.push(s), log: memoryLogger('warn') };
    assert.equal(await main(['store', CIP64_DICOM_DIR], ctx), 0);
    assert.match(lines.join('\n'), /79 of 79 stored/);

    lines.length = 0;
    assert.equal(await main(['find', '--patient-id', '123456', '--modality', 'CT', '--json'], ctx), 0);
    const studies = JSON.parse(lines.join('\n')) as { studyInstanceUid: string; numberOfInstances: number }[];
    assert.equal(studies.length, 1);
    assert.equal(studies[0].numberOfInstances, 79);
    const study = studies[0].studyInstanceUid;

    lines.length = 0;
    assert.equal(await main(['find', '--study', study, '--json'], ctx), 0);
    const [series] = JSON.parse(lines.join('\n')) as { seriesInstanceUid: string }[];
    lines.length = 0;
    assert.equal(await main(['find', '--study', study, '--series', series.seriesInstanceUid], ctx), 0);
    assert.equal(lines.length, 79);

    for (const method of ['c-get', 'c-move']) {
      lines.length = 0;
      const out = join(root, method);
      assert.equal(await main(['retrieve', '--study', study, '--method', method, '--out', out, '--json'], ctx), 0);
      const r = JSON.parse(lines.join('\n')) as { method: string; instances: number };
      assert.deepEqual([r.method, r.instances], [method, 79]);
      assert.equal((await readdir(out)).length, 79);
    }

    lines.length = 0;
    assert.equal(await main(['echo'], ctx), 0);
    assert.match(lines[0], /C-ECHO DFA_PACS@127\.0\.0\.1:\d+ from AE DFA: Success/);
    assert.equal(await main(['retrieve', '--study', study, '--method', 'c-fetch'], ctx), 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('dfa pacs runs the embedded PACS standalone: dcmtk stores into it and finds what it stored; data kept for the next start', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-pacs-verb-'));
  const env = { ...process.env, DFA_DATA_DIR: join(root, 'data'), TCP_NODELAY: '1' };
  const start = async (port: number) => {
    const p = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'dfa.js'), 'pacs', '--port', String(port), '--aet', 'DEVPACS'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`dfa pacs exited ${code}: ${out}`)));
    });
    return p;
  };
  const stop = async (p: ReturnType<typeof spawn>) => {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await freePort();
    let p = await start(port);
    try {
      await run('storescu', ['-aet', 'WS', '-aec', 'DEVPACS', '127.0.0.1', String(port), join(CIP64_DICOM_DIR, 'IMG0001.dcm'), join(CIP64_DICOM_DIR, 'IMG0002.dcm')], { env });
    } finally {
      await stop(p);
    }
    p = await start(port);
    try {
      const { stderr } = await run('findscu', ['-v', '-S', '-aet', 'WS', '-aec', 'DEVPACS', '-k', 'QueryRetrieveLevel=IMAGE', '-k', 'PatientID=123456', '-k', 'SOPInstanceUID', '127.0.0.1', String(port)], { env });
      assert.equal((stderr.match(/Find Response: \d+ \(Pending\)/g) ?? []).length, 2);
    } finally {
      await stop(p);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('dfa scp receives pushes from dcmtk storescu into the artifact inbox and refuses AEs not allowed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-scp-verb-'));
  const port = await freePort();
  const env = { ...process.env, DFA_DATA_DIR: join(root, 'data'), DFA_SCP_PORT: String(port), DFA_SCP_ALLOWED_AETS: 'MODALITY', TCP_NODELAY: '1' };
  const p = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'dfa.js'), 'scp'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`dfa scp exited ${code}: ${out}`)));
    });
    await run('storescu', ['-aet', 'MODALITY', '-aec', 'DFA', '127.0.0.1', String(port), join(CIP64_DICOM_DIR, 'IMG0001.dcm')], { env });
    await assert.rejects(run('storescu', ['-aet', 'STRANGER', '-aec', 'DFA', '127.0.0.1', String(port), join(CIP64_DICOM_DIR, 'IMG0002.dcm')], { env }));
    const study = (await readdir(join(root, 'data', 'artifacts', 'inbox')))[0];
    const series = (await readdir(join(root, 'data', 'artifacts', 'inbox', study)))[0];
    assert.equal((await readdir(join(root, 'data', 'artifacts', 'inbox', study, series))).length, 1);
  } finally {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    await rm(root, { recursive: true, force: true });
  }
  assert.match(out, /received 1 instance/);
  assert.match(err, /calling AE 'STRANGER' is not on the allow-list \[MODALITY\]; to accept it add it to DFA_SCP_ALLOWED_AETS/);
});
