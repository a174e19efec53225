/**
 * `dfa serve` as a user starts it: a real child process with the embedded PACS, FHIR and database
 * under a temporary DFA_DATA_DIR, on free loopback ports. Phantom studies are stored in its PACS and
 * registered in its FHIR; a goal is posted; its jobs are followed on the SSE stream to the end; a
 * study pushed with dcmtk storescu to our SCP becomes a standing-goal run; SIGTERM exits 0.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../test/support/ports.ts';
import { seedDemoStudies } from '../../agent/demo/seed-studies.ts';
import { createLogger } from '../../core/log.ts';
import { writePhantomSeries } from '../../dicom/phantom/index.ts';
import { createPacs } from '../../dicom/pacs.ts';
import { FhirClient } from '../../fhir/client.ts';

const DFA = fileURLToPath(new URL('../../../bin/dfa.js', import.meta.url));
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';
const TERMINAL = ['succeeded', 'failed', 'skipped'];
const log = createLogger({ level: 'warn' });

function serve(env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [DFA, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null }>((res) => p.once('exit', (code) => res({ code })));
  const said = async (re: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (p.exitCode !== null) throw new Error(`dfa serve exited ${p.exitCode}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { p, exited, said, out: () => out, err: () => err };
}

interface RunView {
  runId: string;
  finishedAt: string | null;
  summary: unknown;
  jobs: { studyInstanceUid: string; status: string; step: string | null; reason: string | null; outputSops: string[] }[];
}

/** Follow GET /events?runId= until `expectJobs` jobs of the run are terminal; returns the events and the run. */
async function followRun(api: string, runId: string, expectJobs: number): Promise<{ events: { kind: string; jobKey: string }[]; run: RunView }> {
  const ac = new AbortController();
  const res = await fetch(`${api}/events?runId=${encodeURIComponent(runId)}`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: { kind: string; jobKey: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'event stream ended early');
      buf += value;
      let sawTerminal = false;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as { kind: string; jobKey: string };
        events.push(e);
        if (TERMINAL.includes(e.kind)) sawTerminal = true;
      }
      if (!sawTerminal) continue;
      const run = (await (await fetch(`${api}/runs/${runId}`)).json()) as RunView;
      if (run.jobs.length === expectJobs && run.jobs.every((j) => TERMINAL.includes(j.status))) return { events, run };
    }
  } finally {
    ac.abort();
  }
}

async function errSaid(s: ReturnType<typeof serve>, re: RegExp): Promise<string> {
  for (;;) {
    const m = re.exec(s.err());
    if (m) return m[1];
    if (s.p.exitCode !== null) throw new Error(`dfa serve exited ${s.p.exitCode}: ${s.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function postGoal(api: string, goal: string) {
  const res = await fetch(`${api}/goals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal }) });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
}

test('dfa serve: goal over REST followed on SSE, standing goal on a pushed study, SIGTERM exits 0', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-'));
  const [apiPort, scpPort] = [await freePort(), await freePort()];
  const s = serve({
    DFA_DATA_DIR: join(root, 'data'),
    DFA_API_PORT: String(apiPort),
    DFA_SCP_PORT: String(scpPort),
    DFA_STANDING_GOAL: GOAL,
    DFA_STANDING_GOAL_QUIET_MS: '1000',
    DFA_STANDING_REGISTER: '1',
    DFA_LOG_LEVEL: 'info',
  });
  try {
    const api = (await s.said(/REST API\s+(http:\/\/\S+?)\/? /))[1];
    const pacsLine = await s.said(/embedded PACS\s+(\S+)@([\d.]+):(\d+)\s+DICOMweb (http\S+)/);
    const fhirUrl = (await s.said(/FHIR\s+(http\S+)/))[1];
    await s.said(/Ctrl-C to stop/);
    assert.match(s.out(), new RegExp(`DICOM SCP\\s+DFA@127\\.0\\.0\\.1:${scpPort}`));
    assert.match(s.out(), /standing goal\s+"Analyze all pending CT/);

    // Health, readiness (database, PACS C-ECHO, FHIR /metadata), OpenAPI.
    assert.equal((await fetch(`${api}/health`)).status, 200);
    const ready = await fetch(`${api}/ready`);
    const readyBody = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    assert.equal(ready.status, 200, JSON.stringify(readyBody));
    assert.deepEqual(Object.keys(readyBody.checks).sort(), ['database', 'fhir', 'pacs']);
    const oa = (await (await fetch(`${api}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(oa.openapi, /^3\./);
    assert.ok(oa.paths['/goals'] && oa.paths['/runs/{runId}'] && oa.paths['/events']);

    // A goal the planner cannot serve: 400 with what it understood and what is missing.
    const bad = await postGoal(api, 'make me a sandwich');
    assert.equal(bad.status, 400);
    const details = bad.body.details as { understood: string[]; missing: string[] };
    assert.ok(details.missing.length > 0 && Array.isArray(details.understood));

    // Seed the serve process's own PACS and FHIR: one CT, one MR, one CT with slices missing.
    const pacs = createPacs({ dimse: { host: pacsLine[2], port: Number(pacsLine[3]), calledAet: pacsLine[1], callingAet: 'SEEDER' }, retrieve: ['c-get'], store: 'c-store', log });
    const fhir = new FhirClient({ baseUrl: fhirUrl, log });
    const seeded = await seedDemoStudies({ pacs, fhir, workDir: join(root, 'seed'), ctStudies: 1, size: 96, slices: 40, log });
    await pacs.close();

    const posted = await postGoal(api, GOAL);
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const runId = posted.body.runId as string;
    assert.equal(posted.location, `/runs/${runId}`);
    const { events, run } = await followRun(api, runId, seeded.length);
    for (const st of seeded) {
      const j = run.jobs.find((x) => x.studyInstanceUid === st.studyInstanceUid);
      assert.equal(j?.status, st.expected, `${st.label}: ${JSON.stringify(j)}`);
    }
    const ct = run.jobs.find((j) => j.status === 'succeeded');
    assert.equal(ct?.outputSops.length, 1, 'one RTSTRUCT stored'); // the goal asks for RTSTRUCT only
    assert.match(run.jobs.find((j) => j.status === 'failed')?.reason ?? '', /slice/i);
    assert.ok(events.some((e) => e.kind === 'queued') && events.some((e) => e.kind === 'succeeded'));
    const runs = (await (await fetch(`${api}/runs`)).json()) as { runId: string }[];
    assert.ok(runs.some((r) => r.runId === runId));

    // Standing goal: a CT pushed to our SCP by a modality is forwarded to the PACS, registered in
    // FHIR, and becomes a run of its own once quiet.
    const pushed = await writePhantomSeries({ size: 96, slices: 40, seed: 777, modality: 'CT', patientId: 'PUSH-1', patientName: 'Pushed^CT' }, join(root, 'push'), false);
    const pushedUid = pushed.phantom.volume.meta.studyInstanceUid;
    await promisify(execFile)('storescu', ['-aet', 'MODALITY', '-aec', 'DFA', '+sd', '127.0.0.1', String(scpPort), join(root, 'push', 'dicom')]);
    const standingRunId = await errSaid(s, /standing goal run started.*?runId=([0-9a-f-]{36})/);
    const standing = await followRun(api, standingRunId, 1);
    assert.equal(standing.run.jobs[0].studyInstanceUid, pushedUid);
    assert.equal(standing.run.jobs[0].status, 'succeeded', JSON.stringify(standing.run.jobs[0]));
    const reg = await fhir.search('ImagingStudy', { identifier: `urn:dicom:uid|urn:oid:${pushedUid}` });
    assert.equal(reg.length, 1, 'the pushed study is registered in FHIR');

    s.p.kill('SIGTERM');
    const { code } = await s.exited;
    assert.equal(code, 0, s.err());
    assert.match(s.err(), /serve stopped/);
  } finally {
    if (s.p.exitCode === null) {
      s.p.kill('SIGKILL');
      await s.exited;
    }
    await rm(root, { recursive: true, force: true });
  }
});

test('dfa serve: a standing goal the planner cannot serve stops it at start-up (exit 2, with the reason)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-bad-'));
  try {
    const s = serve({ DFA_DATA_DIR: root, DFA_API_PORT: String(await freePort()), DFA_SCP_PORT: String(await freePort()), DFA_STANDING_GOAL: 'make me a sandwich' });
    const { code } = await s.exited;
    assert.equal(code, 2, s.err());
    assert.match(s.err(), /missing: a task I can do/);
    assert.doesNotMatch(s.out(), /REST API/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('dfa serve: SIGTERM while a job runs exits 0; the next start finishes the job and the run', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-stop-'));
  const env = { DFA_DATA_DIR: join(root, 'data'), DFA_API_PORT: String(await freePort()), DFA_SCP_PORT: String(await freePort()), DFA_LOG_LEVEL: 'info' };
  let s = serve(env);
  try {
    const api = (await s.said(/REST API\s+(http:\/\/\S+?)\/? /))[1];
    const pacsLine = await s.said(/embedded PACS\s+(\S+)@([\d.]+):(\d+)/);
    const fhirUrl = (await s.said(/FHIR\s+(http\S+)/))[1];
    const pacs = createPacs({ dimse: { host: pacsLine[2], port: Number(pacsLine[3]), calledAet: pacsLine[1], callingAet: 'SEEDER' }, retrieve: ['c-get'], store: 'c-store', log });
    const [ct] = await seedDemoStudies({ pacs, fhir: new FhirClient({ baseUrl: fhirUrl, log }), workDir: join(root, 'seed'), ctStudies: 1, withMr: false, withBroken: false, size: 96, slices: 40, log });
    await pacs.close();

    const posted = await postGoal(api, GOAL);
    assert.equal(posted.status, 202);
    const runId = posted.body.runId as string;
    await errSaid(s, /(retrieved study)/); // the job is under way: retrieved, segmenting next
    s.p.kill('SIGTERM');
    assert.equal((await s.exited).code, 0, s.err());
    assert.doesNotMatch(s.err(), /ERROR/);

    s = serve(env);
    const api2 = (await s.said(/REST API\s+(http:\/\/\S+?)\/? /))[1];
    const { run } = await followRun(api2, runId, 1);
    assert.equal(run.jobs[0].studyInstanceUid, ct.studyInstanceUid);
    assert.equal(run.jobs[0].status, 'succeeded', JSON.stringify(run.jobs[0]));
    let finished = run;
    while (!finished.finishedAt) {
      await new Promise((r) => setTimeout(r, 100));
      finished = (await (await fetch(`${api2}/runs/${runId}`)).json()) as RunView;
    }
    assert.deepEqual(finished.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 });
    s.p.kill('SIGTERM');
    assert.equal((await s.exited).code, 0, s.err());
  } finally {
    if (s.p.exitCode === null) {
      s.p.kill('SIGKILL');
      await s.exited;
    }
    await rm(root, { recursive: true, force: true });
  }
});
