/**
 * Nothing received is lost (issue 10 §4): `dfa serve` as a real child process in front of a real
 * Orthanc, killed with SIGKILL twice — once while a pushed study waits for its quiet time, once
 * while a pushed study is being forwarded to the PACS. After the restarts every pushed instance is
 * in Orthanc exactly once, each study was run once (one RTSTRUCT each), and the inbox is empty.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOrthanc, type OrthancHandle } from '../../test/support/orthanc.ts';
import { freePort } from '../../test/support/ports.ts';
import { writePhantomSeries } from '../dicom/phantom/index.ts';
import { DimseClient } from '../dicom/dimse/scu.ts';
import { openDatabase } from '../storage/db.ts';

const DFA = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';

function serve(env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [DFA, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((res) => p.once('exit', () => res()));
  const said = async (re: RegExp): Promise<void> => {
    while (!re.test(out)) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`dfa serve exited: ${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const kill = async () => {
    p.kill('SIGKILL');
    await exited;
  };
  return { p, said, kill, exited, out: () => out };
}

/** Orthanc's SOP Instance UIDs of one study (by StudyInstanceUID), and its modalities. */
async function inOrthanc(orthanc: OrthancHandle, studyUid: string): Promise<{ sops: string[]; modalities: string[] }> {
  const hits = (await (await orthanc.rest('/tools/lookup', { method: 'POST', body: studyUid })).json()) as { ID: string; Type: string }[];
  const id = hits.find((h) => h.Type === 'Study')?.ID;
  if (!id) return { sops: [], modalities: [] };
  const inst = (await (await orthanc.rest(`/studies/${id}/instances`)).json()) as { MainDicomTags: { SOPInstanceUID: string } }[];
  const series = (await (await orthanc.rest(`/studies/${id}/series`)).json()) as { MainDicomTags: { Modality: string } }[];
  return { sops: inst.map((i) => i.MainDicomTags.SOPInstanceUID), modalities: series.map((s) => s.MainDicomTags.Modality).sort() };
}

test('dfa serve killed (SIGKILL) during a quiet time and during a forward: after restart every pushed instance reaches the PACS exactly once', async (t) => {
  const t0 = Date.now();
  const mark = (what: string) => t.diagnostic(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-kill-'));
  const scpPort = await freePort();
  const orthanc = await startOrthanc({ modalities: { DFA: { aet: 'DFA', port: scpPort } } });
  const children: ReturnType<typeof serve>[] = [];
  try {
    const env = {
      DFA_DATA_DIR: join(root, 'dfa'),
      DFA_API_PORT: String(await freePort()),
      DFA_SCP_PORT: String(scpPort),
      DFA_SCP_ALLOWED_AETS: `CT1,${orthanc.aet}`,
      DFA_PACS_HOST: '127.0.0.1',
      DFA_PACS_PORT: String(orthanc.dicomPort),
      DFA_PACS_AET: orthanc.aet,
      DFA_STANDING_GOAL: GOAL,
      DFA_STANDING_GOAL_QUIET_MS: '1500',
      DFA_STANDING_REGISTER: '1',
      DFA_STANDING_RETRY_MS: '500',
      DFA_LOG_LEVEL: 'info',
    };
    const start = async () => {
      const c = serve(env);
      children.push(c);
      await c.said(/REST API\s+http/);
      return c;
    };
    const modality = new DimseClient({ host: '127.0.0.1', port: scpPort, calledAet: 'DFA', callingAet: 'CT1' });
    const a = await writePhantomSeries({ size: 64, slices: 24, seed: 801, modality: 'CT', patientId: 'KILL-A' }, join(root, 'a'), false);
    const b = await writePhantomSeries({ size: 256, slices: 120, seed: 802, modality: 'CT', patientId: 'KILL-B' }, join(root, 'b'), false);
    const uidA = a.phantom.volume.meta.studyInstanceUid;
    const uidB = b.phantom.volume.meta.studyInstanceUid;

    // Life 1: study A pushed; killed while it waits for its quiet time.
    const life1 = await start();
    const sentA = await modality.store(a.files);
    assert.ok(sentA.every((r) => r.status.kind === 'success'), 'our SCP took every instance of A');
    await life1.kill();
    assert.deepEqual((await inOrthanc(orthanc, uidA)).sops, [], 'killed before A was forwarded');
    mark('life 1 killed during the quiet time');

    // Life 2: A is found in the inbox again; B pushed; killed while B is being forwarded.
    const life2 = await start();
    const sentB = await modality.store(b.files);
    assert.ok(sentB.every((r) => r.status.kind === 'success'), 'our SCP took every instance of B');
    let atKill = 0;
    for (;;) {
      atKill = (await inOrthanc(orthanc, uidB)).sops.length;
      if (atKill > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await life2.kill();
    atKill = (await inOrthanc(orthanc, uidB)).sops.length;
    assert.ok(atKill < b.files.length, `killed while B was being forwarded (the PACS held ${atKill} of ${b.files.length})`);
    mark(`life 2 killed with ${atKill} of ${b.files.length} instances of B in the PACS`);

    // Life 3: the rest of B is forwarded, both studies are run, once each.
    const api = `http://127.0.0.1:${env.DFA_API_PORT}`;
    const life3 = await start();
    let jobs: { studyInstanceUid: string; status: string; reason: string | null }[] = [];
    for (;;) {
      jobs = (await (await fetch(`${api}/jobs`)).json()) as typeof jobs;
      const ended = jobs.filter((j) => ['succeeded', 'failed', 'skipped'].includes(j.status));
      if (ended.length === 2 && jobs.length === 2) break;
      if (life3.p.exitCode !== null) throw new Error(life3.out());
      await new Promise((r) => setTimeout(r, 250));
    }
    mark('life 3: both jobs ended');
    assert.deepEqual(jobs.map((j) => [j.studyInstanceUid, j.status]).sort(), [[uidA, 'succeeded'], [uidB, 'succeeded']].sort(), JSON.stringify(jobs));
    const runs = (await (await fetch(`${api}/runs`)).json()) as unknown[];
    assert.equal(runs.length, 2, 'one run per pushed study, none started twice');
    assert.match(life3.out(), /alreadyForwarded=\d+/, 'after the restart only what the PACS had not acknowledged was sent');

    for (const [uid, files, sent] of [[uidA, a.files, sentA], [uidB, b.files, sentB]] as const) {
      const got = await inOrthanc(orthanc, uid);
      assert.deepEqual(got.modalities, ['CT', 'RTSTRUCT'], 'one RTSTRUCT series beside the CT');
      const ct = sent.map((s) => s.sopInstanceUid).sort();
      assert.equal(got.sops.length, files.length + 1, 'every instance once, plus the one RTSTRUCT');
      assert.deepEqual(got.sops.filter((s) => ct.includes(s)).sort(), ct);
    }
    life3.p.kill('SIGTERM');
    await life3.exited;
    const inbox = (await readdir(join(env.DFA_DATA_DIR, 'artifacts'), { recursive: true }).catch(() => [])).filter((f) => f.includes('inbox') && f.endsWith('.dcm'));
    assert.deepEqual(inbox, [], 'the inbox is empty');
    const db = await openDatabase({ DFA_DATA_DIR: env.DFA_DATA_DIR });
    try {
      assert.equal((await db.pool.query('select count(*)::int as n from dfa.inbox_studies')).rows[0].n, 0, 'no study left pending');
    } finally {
      await db.close();
    }
  } finally {
    for (const c of children) if (c.p.exitCode === null && c.p.signalCode === null) await c.kill();
    await orthanc.stop();
    await rm(root, { recursive: true, force: true });
  }
});
