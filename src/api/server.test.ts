import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { memoryLogger } from '../core/log.ts';
import { planGoal } from '../agent/planner/index.ts';
import { TEST_CAPS } from '../../test/support/planner-capabilities.ts';
import { jobKey, planKey, type Plan } from '../agent/plan.ts';
import { openDatabase } from '../storage/db.ts';
import { AuditStore } from '../storage/audit.ts';
import { eventsAfter, getRun } from '../storage/run-queries.ts';
import { buildApi } from './server.ts';

// The API on a real embedded PostgreSQL (PGlite) with the real audit store; the goal runner is
// replaced by a recorder that writes what a worker would (this tests the API's own logic).
test('REST API: goals, runs, jobs, OpenAPI, readiness and the SSE event stream', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-api-'));
  const cfg = loadConfig({ DFA_DATA_DIR: dir });
  const db = await openDatabase(cfg);
  const audit = new AuditStore(db.pool);
  const started: Plan[] = [];
  let n = 0;
  const app = buildApi({
    version: 'test',
    plan: (goal) => planGoal(goal, cfg, { capabilities: TEST_CAPS, planner: 'rules' }),
    startRun: async (plan) => {
      started.push(plan);
      const runId = `run-${++n}`;
      await audit.startRun({ runId, goal: plan.goal, plan, planKey: planKey(plan) });
      const key = jobKey(plan, '1.2.3.4');
      const item = { imagingStudy: 'ImagingStudy/1', studyInstanceUid: '1.2.3.4', modalities: ['CT'], seriesUids: [] };
      const { job } = await audit.claimJob({ jobKey: key, planKey: planKey(plan), runId, plan, item, rerun: false });
      await audit.event(key, job.generation, 'queued', undefined, 'queued');
      return { runId };
    },
    audit,
    getRun: (id) => getRun(db.pool, id),
    eventsAfter: (after, runId) => eventsAfter(db.pool, after, runId),
    readiness: async () => ({ database: { ok: true }, pacs: { ok: false, detail: 'C-ECHO refused' } }),
    log: memoryLogger(),
    ssePollMs: 50,
  });
  try {
    assert.deepEqual((await app.inject({ url: '/health' })).json(), { status: 'ok' });
    const ready = await app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.pacs.detail, 'C-ECHO refused');

    const spec = (await app.inject({ url: '/openapi.json' })).json();
    assert.equal(spec.openapi, '3.1.0');
    assert.ok(spec.paths['/goals'].post.requestBody.content['application/json'].schema.properties.goal);

    const bad = await app.inject({ method: 'POST', url: '/goals', payload: { goal: 'segment the liver on MR' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'GOAL_UNSUPPORTED');
    assert.match(bad.json().message, /missing: a model for MR/);
    assert.equal(started.length, 0, 'a refused goal starts nothing');

    const ok = await app.inject({ method: 'POST', url: '/goals', payload: { goal: 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS' } });
    assert.equal(ok.statusCode, 202);
    const { runId, plan } = ok.json();
    assert.equal(ok.headers.location, `/runs/${runId}`);
    assert.deepEqual(plan.pipeline.structures, ['Lung_L', 'Lung_R']);

    const run = (await app.inject({ url: `/runs/${runId}` })).json();
    assert.equal(run.goal, plan.goal);
    assert.equal(run.jobs.length, 1);
    assert.equal(run.jobs[0].status, 'queued');
    assert.equal((await app.inject({ url: '/runs/nope' })).statusCode, 404);
    const jobs = (await app.inject({ url: `/jobs?runId=${runId}` })).json();
    assert.equal(jobs[0].studyInstanceUid, '1.2.3.4');
    const detail = (await app.inject({ url: `/jobs/${encodeURIComponent(jobs[0].jobKey)}` })).json();
    assert.equal(detail.events[0].kind, 'queued');

    // SSE over a real socket: the queued event arrives, then one written while we listen.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address() as { port: number };
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${addr.port}/events?runId=${runId}`, { signal: ctl.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil(/"kind":"queued"/);
    await audit.event(jobs[0].jobKey, 1, 'step', 'retrieve', 'retrieved 79 instances by c-get');
    await readUntil(/retrieved 79 instances/);
    assert.match(text, /^id: \d+$/m);
    assert.match(text, /^event: job$/m);
    ctl.abort();
  } finally {
    await app.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
