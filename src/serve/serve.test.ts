/**
 * startServe in-process against real parts: /ready names the dependency that does not answer (a
 * closed PACS port: C-ECHO refused; a FHIR server that accepts and never answers: cut at the probe
 * limit) and a dry-run goal records what it would process without queueing anything.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../test/support/ports.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { startServe } from './serve.ts';

const log = createLogger({ level: 'error' });

test('/ready is 503 with a reason per dependency that does not answer; a dry run queues nothing; GET / serves the dashboard', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-serve-ready-'));
  // A FHIR server that accepts connections and never answers.
  const held: Socket[] = [];
  const silent = createServer((s) => void held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as { port: number }).port;
  const cfg = loadConfig({
    DFA_DATA_DIR: root,
    DFA_API_PORT: String(await freePort()),
    DFA_SCP_PORT: String(await freePort()),
    DFA_PACS_HOST: '127.0.0.1',
    DFA_PACS_PORT: String(await freePort()), // nothing listens there
    DFA_PACS_AET: 'NOBODY',
    DFA_FHIR_URL: `http://127.0.0.1:${silentPort}/fhir`,
    DFA_DIMSE_CONNECT_TIMEOUT_MS: '2000',
  });
  const served = await startServe(cfg, log, { readinessTimeoutMs: 1500 });
  try {
    assert.ok(served.lines.some((l) => l.startsWith('PACS') && l.includes('NOBODY@127.0.0.1')));
    const res = await fetch(`${served.apiUrl}/ready`);
    const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
    assert.equal(res.status, 503);
    assert.equal(body.ready, false);
    assert.deepEqual(body.checks.database, { ok: true });
    assert.equal(body.checks.pacs.ok, false);
    assert.ok(body.checks.pacs.detail, 'the PACS check says why');
    assert.equal(body.checks.fhir.ok, false);
    assert.match(body.checks.fhir.detail ?? '', /no answer within 1500 ms/);
    assert.equal((await fetch(`${served.apiUrl}/health`)).status, 200, 'alive even when not ready');
  } finally {
    await served.close();
    for (const s of held) s.destroy();
    silent.close();
  }

  // Embedded PACS + FHIR: a dry run is recorded as a finished run listing the studies, and queues no job.
  const cfg2 = loadConfig({ DFA_DATA_DIR: join(root, 'embedded'), DFA_API_PORT: String(await freePort()), DFA_SCP_PORT: String(await freePort()) });
  const s2 = await startServe(cfg2, log);
  try {
    const res = await fetch(`${s2.apiUrl}/goals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'contour the lungs on pending CT scans', dryRun: true }),
    });
    assert.equal(res.status, 202);
    const { runId } = (await res.json()) as { runId: string };
    const run = (await (await fetch(`${s2.apiUrl}/runs/${runId}`)).json()) as { finishedAt: string | null; summary: { dryRun: boolean; studies: unknown[] }; jobs: unknown[] };
    assert.ok(run.finishedAt);
    assert.deepEqual(run.summary, { dryRun: true, studies: [] });
    assert.deepEqual(run.jobs, []);
    assert.equal((await fetch(`${s2.apiUrl}/ready`)).status, 200);
    // The embedded PACS takes C-STORE: a goal asking for STOW-RS is refused, not run another way.
    const stow = await fetch(`${s2.apiUrl}/goals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'contour the lungs on pending CT scans and store via STOW' }),
    });
    assert.equal(stow.status, 400);
    const refusal = (await stow.json()) as { error: string; details: { missing: string[] } };
    assert.equal(refusal.error, 'GOAL_UNSUPPORTED');
    assert.match(refusal.details.missing[0], /stow-rs.*stores with c-store/);
    const page = await fetch(`${s2.apiUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<script src="\/ui\/app.js"/);
    const js = await (await fetch(`${s2.apiUrl}/ui/app.js`)).text();
    assert.match(js, /\/events\?after=/); // live updates read /events with fetch (auth header possible)
  } finally {
    await s2.close();
    await rm(root, { recursive: true, force: true });
  }
});
