/**
 * Scale-out mode: DFA_DATABASE_URL → a real PostgreSQL (Debian postgresql 15, started here), two
 * worker processes sharing the pg-boss queue, a run that only enqueues (workers: 0) and waits.
 * Each worker runs one job at a time and the fake segmenter waits until two segmentations have
 * started, so the run can only finish if both processes took jobs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PostgresHandle } from '../../../test/support/postgres.ts';
import { FakeWorld, keyOf, lungPlan, type FakeStudy } from '../../../test/support/job-fakes.ts';
import { AuditStore } from '../../storage/audit.ts';
import { openDatabase } from '../../storage/db.ts';
import { runPlan } from '../runner.ts';
import { JobQueue } from './queue.ts';

const WORKER = fileURLToPath(new URL('../../../test/support/job-worker-child.ts', import.meta.url));

type Worker = ReturnType<typeof startWorker>;

function startWorker(env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = new Promise<void>((res, rej) => {
    p.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && res());
    p.once('exit', (code) => rej(new Error(`worker exited ${code}: ${err}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((res) => p.once('exit', (c) => res(c)));
  return { p, ready, exited };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).trim().split('\n');
}

/** Until the worker hanging at segment (JOB_CHILD_HANG) has got there. */
async function untilHanging(root: string): Promise<void> {
  while (!(await lines(join(root, 'calls.log'))).some((l) => l.startsWith('hang segment'))) await new Promise((r) => setTimeout(r, 50));
}

/** The killed-worker tests' cleanup: the hung worker killed, the live one stopped, database and files gone. */
async function tearDown(first: Worker, second: Worker | undefined, db: Awaited<ReturnType<typeof openDatabase>>, pgh: PostgresHandle, root: string): Promise<void> {
  first.p.kill('SIGKILL');
  second?.p.kill('SIGTERM');
  await first.exited;
  if (second) await second.exited;
  await db.close();
  await pgh.stop();
  await rm(root, { recursive: true, force: true });
}

test('two worker processes share the queue on a real PostgreSQL; every study done exactly once', async () => {
  const pgh = await startPostgres();
  const root = await mkdtemp(join(tmpdir(), 'dfa-pgq-'));
  const studies: FakeStudy[] = Array.from({ length: 4 }, (_, i) => ({ uid: `1.2.826.0.1.3680043.9.7780.${i + 1}`, modality: 'CT', patientId: `P${i}` }));
  const env = { ...process.env, DFA_DATABASE_URL: pgh.url, JOB_CHILD_ROOT: root, JOB_CHILD_STUDIES: JSON.stringify(studies) };
  const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: pgh.url });
  const children = [0, 1].map(() => startWorker({ ...env, JOB_CHILD_BARRIER: '2' }));
  try {
    await Promise.all(children.map((c) => c.ready));
    const world = new FakeWorld({ root: join(root), studies, stateName: 'parent.json' });
    const plan = lungPlan();
    const r = await runPlan(plan, db, world.deps(), { workers: 0, pollMs: 100 });
    assert.deepEqual(r.summary, { succeeded: 4, failed: 0, skipped: 0, review: 0 });

    const log = (await readFile(join(root, 'calls.log'), 'utf8')).trim().split('\n');
    const pids = new Set(children.map((c) => String(c.p.pid)));
    const byWorker = new Map<string, number>();
    for (const s of studies) {
      const stores = log.filter((l) => l.startsWith(`store ${s.uid} @`));
      assert.equal(stores.length, 1, `one RTSTRUCT stored for ${s.uid}`);
      const retrieves = log.filter((l) => l.startsWith(`retrieve ${s.uid} @`));
      assert.equal(retrieves.length, 1);
      const who = retrieves[0].split('@')[1];
      assert.ok(pids.has(who));
      byWorker.set(who, (byWorker.get(who) ?? 0) + 1);
      assert.equal((await new AuditStore(db.pool).getJob(keyOf(plan, s.uid)))?.status, 'succeeded');
    }
    assert.equal(byWorker.size, 2, 'both worker processes ran jobs');

    // A second run of the same goal adds nothing, whoever would have taken it.
    const again = await runPlan({ ...plan, selection: { ...plan.selection, status: 'any' } }, db, world.deps(), { workers: 0, pollMs: 100 });
    assert.equal(again.summary.skipped, 4);
    const after = (await readFile(join(root, 'calls.log'), 'utf8')).trim().split('\n');
    assert.equal(after.length, log.length);
  } finally {
    for (const c of children) c.p.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await db.close();
    await pgh.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('a worker killed (SIGKILL) mid-job: the job expires, another worker resumes it at the step where it stopped', async () => {
  const pgh = await startPostgres();
  const root = await mkdtemp(join(tmpdir(), 'dfa-pgx-'));
  const study = '1.2.826.0.1.3680043.9.7781.1';
  const studies: FakeStudy[] = [{ uid: study, modality: 'CT', patientId: 'P1' }];
  // One FHIR/PACS world for both workers (they never run at the same time here).
  const env = { ...process.env, DFA_DATABASE_URL: pgh.url, JOB_CHILD_ROOT: root, JOB_CHILD_STUDIES: JSON.stringify(studies), JOB_CHILD_STATE: 'world.json' };
  const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: pgh.url });
  const first = startWorker({ ...env, JOB_CHILD_HANG: 'segment' });
  let second: Worker | undefined;
  try {
    await first.ready;
    const world = new FakeWorld({ root, studies, stateName: 'parent.json' });
    // Short expiry so the test does not wait 30 min for the dead worker's job to be declared lost.
    const run = runPlan(lungPlan(), db, world.deps(), { workers: 0, pollMs: 100, queue: { expireInSeconds: 3 } });
    await untilHanging(root);
    first.p.kill('SIGKILL');
    await first.exited;
    second = startWorker(env);
    await second.ready;
    const r = await run;
    const ev = await new AuditStore(db.pool).events(keyOf(lungPlan(), study));
    assert.deepEqual(r.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 }, JSON.stringify({ job: r.jobs[0], ev }));
    const log = await lines(join(root, 'calls.log'));
    const by = (prefix: string) => log.filter((l) => l.startsWith(prefix)).map((l) => l.split('@')[1]);
    const [a, b] = [String(first.p.pid), String(second.p.pid)];
    assert.deepEqual(by(`retrieve ${study}`), [a], 'retrieved once, by the first worker');
    assert.deepEqual(by(`ensureTask ${study}`), [a]);
    assert.deepEqual(by(`segment ${study}`), [a, b], 'the unfinished step ran again, on the second worker');
    assert.deepEqual(by(`store ${study}`), [b], 'one RTSTRUCT stored');
    assert.deepEqual(by(`recordResults ${study}`), [b]);
  } finally {
    await tearDown(first, second, db, pgh, root);
  }
});

test('a worker killed (SIGKILL) mid-job on another machine: its heartbeat stops, a live worker takes the job over long before expiry', { timeout: 90_000 }, async () => {
  const pgh = await startPostgres();
  const root = await mkdtemp(join(tmpdir(), 'dfa-pgl-'));
  const study = '1.2.826.0.1.3680043.9.7782.1';
  const studies: FakeStudy[] = [{ uid: study, modality: 'CT', patientId: 'P1' }];
  const env = { ...process.env, DFA_DATABASE_URL: pgh.url, JOB_CHILD_ROOT: root, JOB_CHILD_STUDIES: JSON.stringify(studies), JOB_CHILD_STATE: 'world.json', JOB_CHILD_HEARTBEAT_S: '0.3', JOB_CHILD_DEAD_AFTER_S: '2' };
  const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: pgh.url });
  const first = startWorker({ ...env, JOB_CHILD_HANG: 'segment' });
  // A second, live worker from the start, busy with nothing: it must notice the first one died.
  let second: Worker | undefined;
  try {
    await first.ready;
    const world = new FakeWorld({ root, studies, stateName: 'parent.json' });
    // The default expiry (30 min): only liveness can bring the job back within the test's time.
    const run = runPlan(lungPlan(), db, world.deps(), { workers: 0, pollMs: 100 });
    await untilHanging(root);
    second = startWorker(env);
    await second.ready;
    const owners = await db.pool.query<{ n: number }>('select count(*)::int as n from dfa.job_owners');
    assert.equal(owners.rows[0].n, 1, 'the hanging worker recorded the job it holds');
    first.p.kill('SIGKILL');
    await first.exited;
    const r = await run;
    assert.deepEqual(r.summary, { succeeded: 1, failed: 0, skipped: 0, review: 0 }, JSON.stringify(r.jobs[0]));
    const log = await lines(join(root, 'calls.log'));
    const by = (prefix: string) => log.filter((l) => l.startsWith(prefix)).map((l) => l.split('@')[1]);
    const [a, b] = [String(first.p.pid), String(second.p.pid)];
    assert.deepEqual(by(`retrieve ${study}`), [a], 'retrieved once, by the first worker');
    assert.deepEqual(by(`segment ${study}`), [a, b], 'the unfinished step ran again, on the live worker');
    assert.deepEqual(by(`store ${study}`), [b], 'one RTSTRUCT stored');
    const workers = await db.pool.query<{ pid: number }>('select pid from dfa.workers');
    assert.deepEqual(workers.rows.map((w) => String(w.pid)), [b], 'the dead worker is forgotten, the live one registered');
    assert.equal((await db.pool.query<{ n: number }>('select count(*)::int as n from dfa.job_owners')).rows[0].n, 0, 'nothing held after the job');
  } finally {
    await tearDown(first, second, db, pgh, root);
  }
});

// Without ensureQueue's retry this failed with "deadlock detected" (40P01) within 15 rounds here.
test('several workers opening the queue at once on a fresh database all start (pg-boss createQueue race)', async () => {
  const pgh = await startPostgres();
  try {
    for (let round = 0; round < 12; round++) {
      const admin = new pg.Client({ connectionString: pgh.url });
      await admin.connect();
      await admin.query(`create database race${round}`);
      await admin.end();
      const url = pgh.url.replace(/\/postgres$/, `/race${round}`);
      const queues = await Promise.all(Array.from({ length: 8 }, () => JobQueue.open(url, { maintenanceIntervalSeconds: 60 })));
      await Promise.all(queues.map((q) => q.stop()));
    }
  } finally {
    await pgh.stop();
  }
});
