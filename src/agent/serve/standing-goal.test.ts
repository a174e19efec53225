/** The standing goal's own logic (quiet time, forwarding, registration, failures) with fakes for the services it calls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../core/log.ts';
import type { RetrievedInstance, StoreOutcome } from '../../core/ports.ts';
import type { Plan } from '../plan.ts';
import { planGoal } from '../planner/index.ts';
import { loadConfig } from '../../core/config.ts';
import { TEST_CAPS } from '../planner/fixtures.ts';
import { planForStudy, StandingGoal, type StandingGoalOptions, type Trigger } from './standing-goal.ts';

const log = createLogger({ level: 'error' });
const inst = (study: string, n: number): RetrievedInstance => ({ path: `/in/${study}/${n}.dcm`, studyInstanceUid: study, seriesInstanceUid: `${study}.1`, sopInstanceUid: `${study}.1.${n}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' });

async function setup(over: Partial<StandingGoalOptions> = {}) {
  const plan = await planGoal('Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS', loadConfig({}), { capabilities: TEST_CAPS });
  const calls: string[] = [];
  const forwarded: string[][] = [];
  const started: Plan[] = [];
  const discarded: string[] = [];
  const g = new StandingGoal({
    plan,
    quietMs: 30,
    pacsAet: 'PACS',
    forward: async (files) => {
      forwarded.push([...files]);
      calls.push('forward');
      return files.map((f): StoreOutcome => ({ sopInstanceUid: f, ok: true, status: 0 }));
    },
    register: async (uid) => void calls.push(`register ${uid}`),
    startRun: async (p) => {
      started.push(p);
      calls.push('run');
      return { runId: `run-${started.length}` };
    },
    discard: async (files) => void discarded.push(...files),
    log,
    ...over,
  });
  const next = () => new Promise<Trigger>((res) => (g.onTrigger = res));
  return { g, plan, calls, forwarded, started, discarded, next };
}

test('a pushed study becomes one run for that study once quiet: forwarded, registered, then run', async () => {
  const { g, plan, calls, forwarded, started, discarded, next } = await setup();
  const done = next();
  for (let i = 0; i < 3; i++) g.received(inst('1.2.3', i), { callingAet: 'CT1' });
  const t = await done;
  assert.deepEqual(t, { studyInstanceUid: '1.2.3', instances: 3, forwarded: 3, runId: 'run-1' });
  assert.deepEqual(discarded, forwarded[0], 'the inbox copies go once the PACS holds them and the run has started');
  assert.deepEqual(calls, ['forward', 'register 1.2.3', 'run']);
  assert.equal(forwarded[0].length, 3);
  assert.deepEqual(started[0].selection.studyInstanceUids, ['1.2.3']);
  assert.equal(started[0].goal, plan.goal);
  await g.close();
});

test('two studies pushed together become two runs; instances from the PACS itself are not forwarded back', async () => {
  const { g, calls, started } = await setup();
  const seen: Trigger[] = [];
  const both = new Promise<void>((res) => (g.onTrigger = (t) => (seen.push(t), seen.length === 2 && res())));
  g.received(inst('1.1', 0), { callingAet: 'PACS' });
  g.received(inst('2.2', 0), { callingAet: 'CT1' });
  g.received(inst('1.1', 1), { callingAet: 'PACS' });
  await both;
  assert.deepEqual(seen.map((t) => [t.studyInstanceUid, t.forwarded]).sort(), [['1.1', 0], ['2.2', 1]]);
  assert.equal(calls.filter((c) => c === 'forward').length, 1);
  assert.deepEqual(started.map((p) => p.selection.studyInstanceUids?.[0]).sort(), ['1.1', '2.2']);
  await g.close();
});

test('a PACS that refuses every instance: no run, the reason is recorded, the files stay in the inbox', async () => {
  const { g, started, discarded, next } = await setup({ forward: async (files) => files.map((f) => ({ sopInstanceUid: f, ok: false, status: 0xa700, reason: 'out of resources' })) });
  const done = next();
  g.received(inst('9.9', 0), { callingAet: 'CT1' });
  const t = await done;
  assert.equal(t.runId, undefined);
  assert.match(t.error ?? '', /accepted none/);
  assert.equal(started.length, 0);
  assert.deepEqual(discarded, []);
  await g.close();
});

test('closing during the quiet time drops the pending study and starts nothing', async () => {
  const { g, started } = await setup({ quietMs: 60_000 });
  g.received(inst('5.5', 0), { callingAet: 'CT1' });
  await g.close();
  g.received(inst('6.6', 0), { callingAet: 'CT1' });
  assert.equal(started.length, 0);
  assert.equal(g.triggers.length, 0);
});

test('planForStudy narrows only the selection', async () => {
  const { plan } = await setup();
  const p = planForStudy(plan, '1.2.840.1');
  assert.deepEqual(p.selection.studyInstanceUids, ['1.2.840.1']);
  assert.deepEqual({ ...p, selection: plan.selection }, plan);
});

test('only the instances the PACS accepted leave the inbox; pushed by the PACS itself, all of them', async () => {
  const { g, discarded, next } = await setup({
    forward: async (files) => files.map((f, i) => ({ sopInstanceUid: f, ok: i !== 1, status: i !== 1 ? 0 : 0xa700 })),
  });
  let done = next();
  for (let i = 0; i < 3; i++) g.received(inst('7.7', i), { callingAet: 'CT1' });
  assert.equal((await done).forwarded, 2);
  assert.deepEqual(discarded, ['/in/7.7/0.dcm', '/in/7.7/2.dcm'], 'the refused one is the only copy: kept');
  done = next();
  g.received(inst('8.8', 0), { callingAet: 'PACS' });
  await done;
  assert.deepEqual(discarded.slice(2), ['/in/8.8/0.dcm']);
  await g.close();
});

test('a run that cannot start keeps the files', async () => {
  const { g, discarded, next } = await setup({ startRun: async () => Promise.reject(new Error('database down')) });
  const done = next();
  g.received(inst('4.4', 0), { callingAet: 'CT1' });
  assert.match((await done).error ?? '', /database down/);
  assert.deepEqual(discarded, []);
  await g.close();
});
