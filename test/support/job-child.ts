/**
 * A `dfa run` stand-in for the crash-resume test: runs the lung plan with the file-backed fake
 * world on the embedded database in JOB_CHILD_ROOT/data, and prints the RunResult as JSON.
 * JOB_CHILD_HANG makes one step hang so the test can kill -9 the process there.
 */
import { join } from 'node:path';
import { runPlan } from '../../src/agent/runner.ts';
import { openDatabase } from '../../src/storage/db.ts';
import { FakeWorld, lungPlan, type FakeOptions, type FakeStudy } from './job-fakes.ts';

const root = process.env.JOB_CHILD_ROOT ?? '';
const studies = JSON.parse(process.env.JOB_CHILD_STUDIES ?? '[]') as FakeStudy[];
const hangAt = (process.env.JOB_CHILD_HANG || undefined) as FakeOptions['hangAt'];
const world = new FakeWorld({ root, studies, persist: true, hangAt });
const db = await openDatabase({ DFA_DATA_DIR: join(root, 'data'), DFA_DATABASE_URL: process.env.DFA_DATABASE_URL });
try {
  const r = await runPlan(lungPlan(), db, world.deps(), {
    workers: Number(process.env.JOB_CHILD_WORKERS ?? 1),
    retry: { initialIntervalMs: 10, maxIntervalMs: 40, maxAttempts: 3 },
    queue: { pollingIntervalSeconds: 0.5, expireInSeconds: Number(process.env.JOB_CHILD_EXPIRE_S ?? 1800), maintenanceIntervalSeconds: 1 },
    pollMs: 100,
  });
  process.stdout.write(JSON.stringify(r) + '\n');
} finally {
  await db.close();
}
