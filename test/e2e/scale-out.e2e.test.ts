/**
 * Scale-out correctness (issue 13 §2): two `dfa worker` processes, each with its own data directory
 * (as on two machines), sharing a real PostgreSQL and an S3-protocol object store. One worker is
 * SIGKILLed in the middle of a job — after retrieve, selectSeries and volume have finished — and its
 * data directory is deleted, so nothing on its disk can help. The other worker takes the job over
 * (heartbeat takeover, src/agent/jobs/liveness.ts) and resumes it at the next step from the
 * artifacts in the object store. Results once; the steps finished before the kill are not redone;
 * every object written once (counted from the S3 server's own event notifications).
 *
 * Where the kill lands is decided by a request, not by timing: each worker reaches FHIR through its
 * own loopback proxy (test/support/http-gate.ts), and the first worker to read a Patient while its
 * job has finished volume but not checkPatient (the audit table says so) — that read is
 * checkPatient's — gets no answer, then is killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { jobPrefix } from '../../src/agent/jobs/context.ts';
import { STEPS } from '../../src/agent/jobs/graph.ts';
import { startHttpGate } from '../support/http-gate.ts';
import { startPostgres } from '../support/postgres.ts';
import { freePort } from '../support/ports.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { count, GOAL, rtstructInstances, spawnDfa, startWorld } from './world.ts';

const S3_PREFIX = 'scale';
/** A read of one Patient, GET …/Patient/<id> (find reads it too, for the work item's summary). */
const PATIENT_READ = (method: string, path: string) => method === 'GET' && /\/Patient\/[^/?]+(\?|$)/.test(path);
/** The worker with this pid runs a job whose volume step finished and whose checkPatient has not. */
const AT_CHECK_PATIENT = `select 1 from dfa.job_owners o join dfa.workers w using (worker_id)
  where w.pid = $1
    and exists (select 1 from dfa.job_events e where e.job_key = o.job_key and e.step = 'volume' and e.kind = 'step')
    and not exists (select 1 from dfa.job_events e where e.job_key = o.job_key and e.step = 'checkPatient')`;

interface RunJson {
  summary: Record<string, number>;
  jobs: { studyInstanceUid: string; status: string; reason?: string; diagnosticReport?: string }[];
}

test('two dfa workers, separate disks, shared PostgreSQL + S3: one killed mid-job, the other resumes from the object store; results once', { timeout: 480_000 }, async () => {
  const pgh = await startPostgres();
  const s3 = await startTestS3();
  const w = await startWorld({ ctStudies: 3, databaseUrl: pgh.url, size: 64, slices: 40 });
  const db = new pg.Pool({ connectionString: pgh.url, max: 3 });
  let procs: ReturnType<typeof spawnDfa>[] = [];
  const gate = await startHttpGate(w.fhirServer.url, 2, async (client, method, path) =>
    PATIENT_READ(method, path) && (await db.query(AT_CHECK_PATIENT, [procs[client]?.pid ?? -1])).rows.length > 0,
  );
  const dataDirs = [0, 1].map((i) => join(w.root, `machine-${i}`));
  const workerEnv = async (i: number) =>
    w.env({
      ...s3.env(S3_PREFIX),
      DFA_DATA_DIR: dataDirs[i],
      DFA_SCP_PORT: String(await freePort()),
      DFA_FHIR_URL: gate.url(i),
      DFA_LOG_LEVEL: 'info',
      // Heartbeat every second; a worker silent for 6 s is dead and its jobs go to the others.
      DFA_WORKER_HEARTBEAT_S: '1',
      DFA_WORKER_DEAD_AFTER_S: '6',
    });
  procs = [spawnDfa(['worker', '--concurrency', '1'], await workerEnv(0)), spawnDfa(['worker', '--concurrency', '1'], await workerEnv(1))];
  const logs = procs.map(() => ({ text: '' }));
  procs.forEach((p, i) => p.stderr!.on('data', (d: Buffer) => (logs[i].text = (logs[i].text + d.toString()).slice(-6000))));
  const workerLogs = () => logs.map((l, i) => `worker ${i}: ${l.text}`).join('\n');
  let runner: ReturnType<typeof spawnDfa> | undefined;
  try {
    await Promise.all(procs.map((p, i) => started(p, logs[i])));
    runner = spawnDfa(['run', '--json', '--workers', '0', GOAL], w.env({ ...s3.env(S3_PREFIX), DFA_DATA_DIR: join(w.root, 'runner') }));
    const ran = runner.output;

    // One worker is inside checkPatient (its Patient read held): which job is it running?
    const caught = await Promise.race([
      gate.caught,
      ran.then((r) => {
        throw new Error(`the run ended before any worker reached checkPatient (exit ${r.code})\n${r.stderr.slice(-2000)}\n${workerLogs()}`);
      }),
    ]);
    const victim = procs[caught.client]!;
    const survivor = procs[1 - caught.client]!;
    const owned = await db.query<{ job_key: string; generation: number }>(
      `select o.job_key, j.generation from dfa.job_owners o join dfa.workers w using (worker_id) join dfa.jobs j using (job_key) where w.pid = $1`,
      [victim.pid],
    );
    assert.equal(owned.rows.length, 1, `the caught worker owns one job\n${workerLogs()}`);
    const { job_key: jobKey, generation } = owned.rows[0]!;
    const before = await stepCounts(db, jobKey);
    for (const s of ['find', 'ensureTask', 'retrieve', 'selectSeries', 'volume']) assert.equal(before.get(s), 1, `${s} finished before the kill`);
    assert.equal(before.get('checkPatient'), undefined, 'checkPatient had not finished');
    const keyPrefix = `${S3_PREFIX}/${jobPrefix({ jobKey, generation })}/`;
    const putBefore = puts(s3.events(), keyPrefix);
    assert.ok([...putBefore.keys()].some((k) => k.startsWith(`${keyPrefix}input/`)), 'the retrieved DICOM files are in the object store');
    assert.ok(putBefore.has(`${keyPrefix}instances.json`) && putBefore.has(`${keyPrefix}volume/volume.json`), [...putBefore.keys()].join('\n'));

    // The machine is gone: process killed, its disk with it.
    victim.kill('SIGKILL');
    const dead = await victim.output;
    assert.equal(dead.code, null, 'killed by a signal');
    await rm(dataDirs[caught.client]!, { recursive: true, force: true });
    await assert.rejects(access(dataDirs[caught.client]!));

    const r = await ran;
    const out = JSON.parse(r.stdout || '{}') as RunJson;
    assert.equal(r.code, 1, `the broken series fails the run (exit 1)\n${r.stderr.slice(-2000)}\n${workerLogs()}`);
    assert.deepEqual(out.summary, { succeeded: 3, failed: 1, skipped: 1, review: 0 }, `${JSON.stringify(out.jobs, null, 1)}\n${workerLogs()}`);
    assert.equal(survivor.exitCode, null, 'the surviving worker is still running');
    assert.match(logs[1 - caught.client]!.text, /handed back to the queue/, 'the survivor took the dead worker’s job back');

    // Results once: one RTSTRUCT per CT study in Orthanc, one DiagnosticReport per CT study in FHIR.
    for (const s of w.seeded) {
      assert.equal(out.jobs.find((j) => j.studyInstanceUid === s.studyInstanceUid)?.status, s.expected, s.label);
      assert.equal((await rtstructInstances(w, s.studyInstanceUid)).length, s.kind === 'ct' ? 1 : 0, s.label);
    }
    const reports = out.jobs.map((j) => j.diagnosticReport).filter((x) => x !== undefined);
    assert.equal(new Set(reports).size, 3);
    assert.equal(await count(w, 'DiagnosticReport'), 3, 'one DiagnosticReport per CT study');

    // The killed job resumed at checkPatient; every step of it finished exactly once.
    const ev = await db.query<{ kind: string; step: string }>(`select kind, step from dfa.job_events where job_key = $1 and generation = $2 order by id`, [jobKey, generation]);
    assert.ok(ev.rows.some((e) => e.kind === 'resumed' && e.step === 'checkPatient'), JSON.stringify(ev.rows));
    const after = await stepCounts(db, jobKey);
    for (const [s] of [...STEPS, ['finish'] as const]) assert.equal(after.get(s), 1, `${s} ran to the end once: ${JSON.stringify(ev.rows)}`);
    const job = await db.query<{ status: string }>('select status from dfa.jobs where job_key = $1', [jobKey]);
    assert.equal(job.rows[0]?.status, 'succeeded');

    // Every object written once — the retrieved files, instance list and volume header of the
    // killed job were not written again by the survivor; nor anything of any other job.
    const all = puts(s3.events(), `${S3_PREFIX}/`);
    const twice = [...all].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no object written twice');
    const mine = puts(s3.events(), keyPrefix);
    for (const k of putBefore.keys()) assert.equal(mine.get(k), 1, k);
    assert.ok(mine.has(`${keyPrefix}out/rtstruct.dcm`), 'the survivor wrote the RTSTRUCT to the object store');

    // The results archive: one entry per CT study, the killed job's among them, its objects in S3.
    const arch = await db.query<{ study_instance_uid: string; job_key: string; prefix: string }>('select study_instance_uid, job_key, prefix from dfa.archive_entries');
    const ctUids = w.seeded.filter((s) => s.kind === 'ct').map((s) => s.studyInstanceUid).sort();
    assert.deepEqual(arch.rows.map((a) => a.study_instance_uid).sort(), ctUids, 'one archive entry per CT study');
    const entry = arch.rows.find((a) => a.job_key === jobKey);
    assert.ok(entry, 'the killed job is archived');
    assert.ok([...all.keys()].some((k) => k.startsWith(`${S3_PREFIX}/${entry.prefix}/`) && k.endsWith('record.json')), `archive record of ${entry.prefix}`);
  } finally {
    runner?.kill('SIGTERM');
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all([...procs.map((p) => p.output), ...(runner ? [runner.output] : [])]);
    await gate.close();
    await db.end();
    await w.stop();
    await s3.stop();
    await pgh.stop();
  }
});

/** Resolves when the worker says it started; rejects if it exits first. */
function started(p: ReturnType<typeof spawnDfa>, log: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const look = () => {
      if (/worker started/.test(log.text)) resolve();
    };
    p.stderr!.on('data', look);
    look();
    void p.output.then((o) => reject(new Error(`a worker exited before starting (${o.code}): ${o.stderr.slice(-2000)}`)));
  });
}

/** How often each step of a job finished (its 'step' / terminal event), from the audit table. */
async function stepCounts(db: pg.Pool, jobKey: string): Promise<Map<string, number>> {
  const r = await db.query<{ step: string; n: string }>(
    `select step, count(*) as n from dfa.job_events where job_key = $1 and kind in ('step', 'succeeded', 'failed', 'skipped') group by step`,
    [jobKey],
  );
  return new Map(r.rows.map((x) => [x.step, Number(x.n)]));
}

/** PUT count per object key below `prefix`. */
function puts(events: readonly { event: string; key: string }[], prefix: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) if (e.event.startsWith('ObjectCreated:') && e.key.startsWith(prefix)) m.set(e.key, (m.get(e.key) ?? 0) + 1);
  return m;
}
