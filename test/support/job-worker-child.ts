/**
 * A `dfa worker` stand-in for the shared-queue test: runs job workers (concurrency 1) on
 * DFA_DATABASE_URL with the fake ports, until SIGTERM. JOB_CHILD_HANG / JOB_CHILD_BARRIER as in FakeOptions;
 * JOB_CHILD_STATE names a world file shared by processes that run one after the other; JOB_CHILD_HEARTBEAT_S /
 * JOB_CHILD_DEAD_AFTER_S set the worker liveness timing. Calls are logged to JOB_CHILD_ROOT/calls.log
 * tagged with this process id.
 */
import { startWorkers } from '../../src/agent/jobs/worker.ts';
import { openDatabase } from '../../src/storage/db.ts';
import { FakeWorld, type FakeOptions, type FakeStudy } from './job-fakes.ts';

const root = process.env.JOB_CHILD_ROOT ?? '';
const studies = JSON.parse(process.env.JOB_CHILD_STUDIES ?? '[]') as FakeStudy[];
const hangAt = (process.env.JOB_CHILD_HANG || undefined) as FakeOptions['hangAt'];
const barrier = Number(process.env.JOB_CHILD_BARRIER ?? 0);
const world = new FakeWorld({ root, studies, persist: true, stateName: process.env.JOB_CHILD_STATE ?? `world-${process.pid}.json`, who: String(process.pid), barrier, hangAt });
const db = await openDatabase({ DFA_DATA_DIR: root, DFA_DATABASE_URL: process.env.DFA_DATABASE_URL });
const workers = await startWorkers(db, world.deps(), { concurrency: 1, retry: { initialIntervalMs: 10, maxIntervalMs: 40, maxAttempts: 3 }, queue: { pollingIntervalSeconds: 0.5, maintenanceIntervalSeconds: 1 }, liveness: { heartbeatSeconds: Number(process.env.JOB_CHILD_HEARTBEAT_S ?? 10), deadAfterSeconds: Number(process.env.JOB_CHILD_DEAD_AFTER_S ?? 60) } });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void workers
    .stop()
    .then(() => db.close())
    .then(() => process.exit(0));
});
