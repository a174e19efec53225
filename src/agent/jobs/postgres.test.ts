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
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../../../test/support/postgres.ts';
import { FakeWorld, keyOf, lungPlan, type FakeStudy } from '../../../test/support/job-fakes.ts';
import { AuditStore } from '../../storage/audit.ts';
import { openDatabase } from '../../storage/db.ts';
import { runPlan } from '../runner.ts';

const WORKER = fileURLToPath(new URL('../../../test/support/job-worker-child.ts', import.meta.url));

test('two worker processes share the queue on a real PostgreSQL; every study done exactly once', async () => {
  const pgh = await startPostgres();
  const root = await mkdtemp(join(tmpdir(), 'dfa-pgq-'));
  const studies: FakeStudy[] = Array.from({ length: 4 }, (_, i) => ({ uid: `1.2.826.0.1.3680043.9.7780.${i + 1}`, modality: 'CT', patientId: `P${i}` }));
  const env = { ...process.env, DFA_DATABASE_URL: pgh.url, JOB_CHILD_ROOT: root, JOB_CHILD_STUDIES: JSON.stringify(studies) };
  const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: pgh.url });
  const children = [0, 1].map(() => {
    const p = spawn(process.execPath, [WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((res, rej) => {
      p.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && res());
      p.once('exit', (code) => rej(new Error(`worker exited ${code}: ${err}`)));
    });
    const exited = new Promise<number | null>((res) => p.once('exit', (c) => res(c)));
    return { p, ready, exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    const world = new FakeWorld({ root: join(root), studies, stateName: 'parent.json' });
    const plan = lungPlan();
    const r = await runPlan(plan, db, world.deps(), { workers: 0, pollMs: 100 });
    assert.deepEqual(r.summary, { succeeded: 4, failed: 0, skipped: 0 });

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
