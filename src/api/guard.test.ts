/**
 * The API's own guards, on a real socket where it matters (Host header, SSE streams): DNS-rebinding
 * Host allow-list, body size, request rate, concurrent event streams, and 5xx answers that carry no
 * internals. The storage behind the routes is a stand-in here (these tests are about the edge);
 * auth.test.ts runs the same routes on the embedded PostgreSQL.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../core/config.ts';
import { memoryLogger } from '../core/log.ts';
import { planGoal } from '../agent/planner/index.ts';
import { TEST_CAPS } from '../../test/support/planner-capabilities.ts';
import { defaultAllowedHosts, hostName, RateLimiter } from '../net/api-guard.ts';
import { buildApi, type ApiDeps } from './server.ts';

const cfg = loadConfig({ DFA_DATA_DIR: '/nonexistent' });
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS';

function api(extra: Partial<ApiDeps> = {}): FastifyInstance & { lines: string[] } {
  const log = memoryLogger();
  const app = buildApi({
    version: 'test',
    plan: (goal) => planGoal(goal, cfg, { capabilities: TEST_CAPS, planner: 'rules' }),
    startRun: async () => ({ runId: 'r1' }),
    audit: { listRuns: async () => [], listJobs: async () => [], getJob: async () => undefined, events: async () => [], searchJobs: async () => ({ jobs: [], total: 0 }) },
    getRun: async () => undefined,
    eventsAfter: async () => [],
    readiness: async () => ({}),
    log,
    ...extra,
  });
  return Object.assign(app, { lines: log.lines });
}

/** A raw GET with the Host header we choose (fetch will not let us set it). */
function get(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', reject);
    r.end();
  });
}

test('Host allow-list: an API bound to loopback answers only loopback names (DNS rebinding)', async () => {
  assert.deepEqual(defaultAllowedHosts('127.0.0.1'), ['localhost', '127.0.0.1', '[::1]']);
  assert.equal(defaultAllowedHosts('0.0.0.0'), undefined, 'bound to the network with auth on: any name');
  assert.deepEqual(defaultAllowedHosts('0.0.0.0', ['DFA.Hospital.org']), ['dfa.hospital.org']);
  assert.equal(hostName('[::1]:8080'), '[::1]');
  assert.equal(hostName('LocalHost:80'), 'localhost');
  const app = api({ allowedHosts: defaultAllowedHosts('127.0.0.1') });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  try {
    assert.equal(await get(port, '/runs', `localhost:${port}`), 200);
    assert.equal(await get(port, '/runs', `127.0.0.1:${port}`), 200);
    assert.equal(await get(port, '/runs', `rebind.evil.example:${port}`), 403);
    assert.equal(await get(port, '/', 'rebind.evil.example'), 403, 'the dashboard page too');
  } finally {
    await app.close();
  }
});

test('bounded bodies, request rate and event streams', async () => {
  const app = api({ maxBodyBytes: 1024, ratePerMinute: 5, maxStreams: 1 });
  try {
    const big = await app.inject({ method: 'POST', url: '/goals', payload: { goal: GOAL + ' '.repeat(2000) } });
    assert.equal(big.statusCode, 413);
    let limited = 0;
    for (let i = 0; i < 8; i++) if ((await app.inject({ url: '/runs' })).statusCode === 429) limited++;
    assert.equal(limited, 4, 'five a minute: the rest of eight are 429 (one was spent above)');
  } finally {
    await app.close();
  }
  const sse = api({ maxStreams: 1, ssePollMs: 20 });
  await sse.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(sse.server.address() as { port: number }).port}/events`;
  const ac = new AbortController();
  try {
    const first = await fetch(url, { signal: ac.signal });
    assert.equal(first.status, 200);
    const second = await fetch(url);
    assert.equal(second.status, 429);
    assert.match((await second.json()).message, /DFA_API_MAX_STREAMS/);
    ac.abort();
    await first.body?.cancel().catch(() => undefined);
    // The slot comes back when the first stream closes.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      const again = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      status = again?.status ?? 0;
      await again?.body?.cancel().catch(() => undefined);
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 200);
  } finally {
    await sse.close();
  }
});

test('a 5xx answer carries no internals: no message, stack or path; the log has them under a reference', async () => {
  const app = api({
    startRun: async () => {
      throw new Error("ENOENT: no such file or directory, open '/srv/dfa/secret/run.json'");
    },
  });
  try {
    const res = await app.inject({ method: 'POST', url: '/goals', payload: { goal: GOAL } });
    assert.equal(res.statusCode, 500);
    const body = res.json();
    assert.equal(body.error, 'INTERNAL');
    assert.doesNotMatch(res.body, /srv|secret|ENOENT|at /);
    const ref = /ref (\S+)\)/.exec(body.message)?.[1];
    assert.ok(ref, body.message);
    assert.ok(app.lines.some((l) => l.includes(ref) && l.includes('/srv/dfa/secret/run.json')), 'the server log keeps the detail');
  } finally {
    await app.close();
  }
});

test('rate limiter: a token bucket that refills over the minute', () => {
  const r = new RateLimiter(60);
  let ok = 0;
  for (let i = 0; i < 100; i++) if (r.take('a', 0)) ok++;
  assert.equal(ok, 60);
  assert.equal(r.take('a', 500), false, 'half a token after 0.5 s');
  assert.equal(r.take('a', 1000), true, 'one token a second');
  assert.equal(r.take('b', 1000), true, 'per client');
});
