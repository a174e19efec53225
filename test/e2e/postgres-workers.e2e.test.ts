import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPostgres } from '../support/postgres.ts';
import { freePort } from '../support/ports.ts';
import { count, GOAL, rtstructInstances, spawnDfa, startWorld } from './world.ts';

// Scale-out: a real PostgreSQL (DFA_DATABASE_URL), two `dfa worker` processes sharing the pg-boss
// queue, and `dfa run --workers 0` that only plans, enqueues and waits.
test('real PostgreSQL + two dfa worker processes: example goal done once, second run adds nothing', { timeout: 480_000 }, async () => {
  const pg = await startPostgres();
  const w = await startWorld({ ctStudies: 3, databaseUrl: pg.url });
  const workers = [0, 1].map(async (i) =>
    spawnDfa(['worker', '--concurrency', '1'], w.env({ DFA_DATA_DIR: join(w.root, `worker-${i}`), DFA_SCP_PORT: String(await freePort()), DFA_LOG_LEVEL: 'info' })),
  );
  const procs = await Promise.all(workers);
  const logs = procs.map(() => ({ text: '' }));
  procs.forEach((p, i) => p.stderr!.on('data', (d: Buffer) => (logs[i].text = (logs[i].text + d.toString()).slice(-4000))));
  const workerLogs = () => logs.map((l, i) => `worker ${i}: ${l.text}`).join('\n');
  try {
    const first = await spawnDfa(['run', '--json', '--workers', '0', GOAL], w.env({ DFA_DATA_DIR: join(w.root, 'runner') })).output;
    assert.equal(first.code, 1, `${first.stderr.slice(-2000)}\n${workerLogs()}`);
    const r = JSON.parse(first.stdout) as { summary: Record<string, number>; jobs: { studyInstanceUid: string; status: string }[] };
    assert.deepEqual(r.summary, { succeeded: 3, failed: 1, skipped: 1, review: 0 }, workerLogs());
    for (const l of logs) assert.match(l.text, /worker started/, 'each worker started against the shared database');
    for (const s of w.seeded) {
      assert.equal((await rtstructInstances(w, s.studyInstanceUid)).length, s.kind === 'ct' ? 1 : 0, s.label);
      assert.equal(r.jobs.find((j) => j.studyInstanceUid === s.studyInstanceUid)?.status, s.expected, s.label);
    }
    const reports = await count(w, 'DiagnosticReport');
    assert.equal(reports, 3);

    const second = await spawnDfa(['run', '--json', '--workers', '0', GOAL], w.env({ DFA_DATA_DIR: join(w.root, 'runner') })).output;
    assert.ok(second.code === 1, second.stderr.slice(-2000)); // the broken series fails again
    for (const s of w.seeded.filter((x) => x.kind === 'ct')) assert.equal((await rtstructInstances(w, s.studyInstanceUid)).length, 1);
    assert.equal(await count(w, 'DiagnosticReport'), reports, 'no second DiagnosticReport');
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.output));
    await w.stop();
    await pg.stop();
  }
});
