/** The standing goal's own logic (quiet time, forwarding, registration, failures) with fakes for the services it calls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../core/log.ts';
import type { RetrievedInstance, StoreOutcome } from '../core/ports.ts';
import type { Plan } from '../agent/plan.ts';
import { planGoal } from '../agent/planner/index.ts';
import { loadConfig } from '../core/config.ts';
import { TEST_CAPS } from '../../test/support/planner-capabilities.ts';
import { planForStudy, StandingGoal, type StandingGoalOptions, type StandingStore, type Trigger } from './standing-goal.ts';

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

/** An in-memory StandingStore with the semantics of src/storage/inbox-store.ts. */
function memoryStore() {
  const studies = new Map<string, { attempts: number; runId?: string }>();
  const acked = new Map<string, string>(); // sop -> study
  const store: StandingStore = {
    noted: async (uid) => void (studies.has(uid) || studies.set(uid, { attempts: 0 })),
    state: async (uid) => {
      const s = studies.get(uid);
      const f = new Set([...acked].filter(([, st]) => st === uid).map(([sop]) => sop));
      return s || f.size > 0 ? { attempts: s?.attempts ?? 0, ...(s?.runId ? { runId: s.runId } : {}), forwarded: f } : undefined;
    },
    forwarded: async (uid, sops) => void sops.forEach((x) => acked.set(x, uid)),
    failed: async (uid) => {
      const s = studies.get(uid) ?? { attempts: 0 };
      s.attempts++;
      studies.set(uid, s);
      return s.attempts;
    },
    started: async (uid, runId) => void studies.set(uid, { ...(studies.get(uid) ?? { attempts: 0 }), runId }),
    done: async (uid, sops) => {
      studies.delete(uid);
      for (const x of sops) acked.delete(x);
    },
  };
  return { store, studies, acked };
}

test('an unreachable PACS: the forward is retried with backoff until the PACS takes the study, then one run', async () => {
  let down = 2;
  const { g, started, next } = await setup({
    retryMs: 20,
    forward: async (files) => {
      if (down-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:4242');
      return files.map((f) => ({ sopInstanceUid: f, ok: true, status: 0 }));
    },
  });
  g.received(inst('3.3', 0), { callingAet: 'CT1' });
  const seen: Trigger[] = [];
  for (;;) {
    const t = await next();
    seen.push(t);
    if (!t.error) break;
  }
  assert.deepEqual(seen.map((t) => t.retryInMs), [20, 40, undefined], 'doubled each time');
  assert.match(seen[0].error ?? '', /ECONNREFUSED/);
  assert.equal(seen[2].forwarded, 1);
  assert.equal(started.length, 1);
  await g.close();
});

test('after a restart: instances the PACS acknowledged are not sent again, and a run that had started is not started again', async () => {
  const mem = memoryStore();
  // First life: the PACS takes the first batch, then the process "dies" during the second one.
  let batches = 0;
  const first = await setup({
    store: mem.store,
    forwardBatch: 2,
    forward: async (files) => {
      if (++batches === 2) return new Promise<never>(() => undefined); // killed mid-forward: never answers
      return files.map((f) => ({ sopInstanceUid: f, ok: true, status: 0 }));
    },
  });
  for (let i = 0; i < 4; i++) first.g.received(inst('6.1', i), { callingAet: 'CT1' });
  while (mem.acked.size < 2) await new Promise((r) => setTimeout(r, 5));
  void first.g.close(); // never settles: its forward hangs, as in a killed process
  // Second life: the inbox rescan hands the same four files over again.
  const second = await setup({ store: mem.store, forwardBatch: 2 });
  const done = second.next();
  for (let i = 0; i < 4; i++) second.g.received(inst('6.1', i), { callingAet: 'CT1' });
  const t = await done;
  assert.equal(t.alreadyForwarded, 2);
  assert.equal(t.forwarded, 2);
  assert.deepEqual(second.forwarded.flat(), ['/in/6.1/2.dcm', '/in/6.1/3.dcm'], 'only what the PACS had not acknowledged');
  assert.equal(second.started.length, 1);
  assert.equal(mem.studies.size, 0, 'handled: forgotten');
  await second.g.close();

  // A run started but the process died before the inbox files were removed: no second run.
  await mem.store.forwarded('6.2', ['6.2.1.0']);
  await mem.store.started('6.2', 'run-earlier');
  const third = await setup({ store: mem.store });
  const d3 = third.next();
  third.g.received(inst('6.2', 0), { callingAet: 'CT1' });
  const t3 = await d3;
  assert.equal(t3.runId, 'run-earlier');
  assert.equal(t3.resumed, true);
  assert.equal(third.started.length, 0);
  assert.deepEqual(third.forwarded, []);
  assert.deepEqual(third.discarded, ['/in/6.2/0.dcm']);
  await third.g.close();
});
