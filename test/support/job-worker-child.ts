/**
 * A `dfa worker` stand-in for the shared-queue test: runs job workers (concurrency 1) on
 * DFA_DATABASE_URL with the fake ports, until SIGTERM. Calls are logged to JOB_CHILD_ROOT/calls.log
 * tagged with this process id.
 */
import { startWorkers } from '../../src/agent/jobs/worker.ts';
import { openDatabase } from '../../src/storage/db.ts';
import { FakeWorld, type FakeStudy } from './job-fakes.ts';

const root = process.env.JOB_CHILD_ROOT ?? '';
const studies = JSON.parse(process.env.JOB_CHILD_STUDIES ?? '[]') as FakeStudy[];
const world = new FakeWorld({ root, studies, persist: true, stateName: `world-${process.pid}.json`, who: String(process.pid), barrier: 2 });
const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: process.env.DFA_DATABASE_URL });
const workers = await startWorkers(db, world.deps(), { concurrency: 1, retry: { initialIntervalMs: 10, maxIntervalMs: 40, maxAttempts: 3 }, queue: { pollingIntervalSeconds: 0.5 } });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void workers
    .stop()
    .then(() => db.close())
    .then(() => process.exit(0));
});
