/**
 * The dashboard in a real browser (Debian's headless chromium) against the API with token auth:
 * the page's script runs, meets the 401 and asks for a token (login form shown, "(sign in)").
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { memoryLogger } from '../core/log.ts';
import { tokenApiAuth } from './auth.ts';
import { registerDashboard } from './dashboard.ts';
import { buildApi } from './server.ts';

test('with DFA_API_AUTH=token the dashboard asks for a token instead of failing silently', async () => {
  const app = buildApi({
    version: 'test',
    plan: async () => Promise.reject(new Error('not used')),
    startRun: async () => ({ runId: 'r' }),
    audit: { listRuns: async () => [], listJobs: async () => [], getJob: async () => undefined, events: async () => [], searchJobs: async () => ({ jobs: [], total: 0 }) },
    getRun: async () => undefined,
    eventsAfter: async () => [],
    readiness: async () => ({}),
    log: memoryLogger(),
    auth: tokenApiAuth('dashboard-test-token-0123'),
  });
  registerDashboard(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
    const { stdout } = await promisify(execFile)('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=5000', '--dump-dom', url], { timeout: 120_000 });
    assert.match(stdout, /<form id="login">/, 'the token form is shown (no hidden attribute)');
    assert.match(stdout, /<span id="live">\(sign in\)/);
  } finally {
    await app.close();
  }
});
