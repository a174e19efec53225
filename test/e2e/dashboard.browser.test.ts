/**
 * The dashboard in a real browser: Debian's /usr/bin/chromium driven by playwright-core (no browser
 * download) against a real `dfa serve` child process (embedded PACS, FHIR and database, loopback).
 * Phantom studies are seeded, a goal "… for review" makes every CT job wait for a person; then,
 * only through the page: runs and jobs appear, the previews load, one job is approved by clicking
 * and turns succeeded without a reload, another is rejected with a comment and ends failed showing
 * it. Screenshots go to $DFA_TEST_ARTIFACTS (or a temp folder; the path is printed).
 * No --virtual-time-budget: an open SSE stream never lets it settle; we wait for selectors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { seedDemoStudies } from '../../src/agent/demo/seed-studies.ts';
import { buildApi } from '../../src/api/server.ts';
import { registerUi } from '../../src/api/ui/routes.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger, memoryLogger } from '../../src/core/log.ts';
import { AuditStore } from '../../src/storage/audit.ts';
import { openDatabase } from '../../src/storage/db.ts';
import { eventsAfter, getRun, latestEventId } from '../../src/storage/run-queries.ts';
import { createPacs } from '../../src/dicom/pacs.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { freePort } from '../support/ports.ts';

const DFA = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));
const GOAL = 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS for review';
const CHROMIUM = '/usr/bin/chromium';
const log = createLogger({ level: 'warn' });

function serve(env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [DFA, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((res) => p.once('exit', () => res()));
  const said = async (re: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (p.exitCode !== null) throw new Error(`dfa serve exited ${p.exitCode}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { p, exited, said, err: () => err };
}

interface JobRow { jobKey: string; status: string; studyInstanceUid: string }

/** Waits (through the API, not the page) until the run's jobs have settled: done or awaiting review. */
async function settled(api: string, runId: string, n: number): Promise<JobRow[]> {
  for (;;) {
    const run = (await (await fetch(`${api}/runs/${runId}`)).json()) as { jobs: JobRow[] };
    if (run.jobs.length === n && run.jobs.every((j) => ['succeeded', 'failed', 'skipped', 'review'].includes(j.status))) return run.jobs;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const previewsLoaded = (page: Page) =>
  page.waitForFunction(() => {
    const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('img[data-preview]'));
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });

test('dashboard in chromium: runs and jobs, previews, approve and reject by clicking, live status without reload', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-browser-'));
  const shots = process.env.DFA_TEST_ARTIFACTS ? join(process.env.DFA_TEST_ARTIFACTS, 'dashboard') : await mkdtemp(join(tmpdir(), 'dfa-screens-')); // kept
  await mkdir(shots, { recursive: true });
  console.log(`dashboard screenshots: ${shots}`);
  const s = serve({
    DFA_DATA_DIR: join(root, 'data'),
    DFA_API_PORT: String(await freePort()),
    DFA_SCP_PORT: String(await freePort()),
    DFA_VIEWER_URL: 'http://127.0.0.1:9/viewer?StudyInstanceUIDs={StudyInstanceUID}',
    DFA_LOG_LEVEL: 'warn',
  });
  const profile = await mkdtemp(join(tmpdir(), 'dfa-chromium-'));
  let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  let failShot = async () => {};
  try {
    const api = (await s.said(/REST API\s+(http:\/\/\S+?)\/? /))[1];
    const pacsLine = await s.said(/embedded PACS\s+(\S+)@([\d.]+):(\d+)/);
    const fhirUrl = (await s.said(/FHIR\s+(http\S+)/))[1];
    await s.said(/Ctrl-C to stop/);
    const pacs = createPacs({ dimse: { host: pacsLine[2], port: Number(pacsLine[3]), calledAet: pacsLine[1], callingAet: 'SEEDER' }, retrieve: ['c-get'], store: 'c-store', log });
    const seeded = await seedDemoStudies({ pacs, fhir: new FhirClient({ baseUrl: fhirUrl, log }), workDir: join(root, 'seed'), ctStudies: 2, size: 96, slices: 40, log });
    await pacs.close();

    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 1000 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
    failShot = async () => {
      await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => undefined);
      console.log(`page errors: ${JSON.stringify(pageErrors)}`);
    };
    page.setDefaultTimeout(120_000);

    // The goal is started from the page itself.
    await page.goto(`${api}/`);
    await page.waitForSelector('#live[data-state="live"]');
    await page.fill('#goal', GOAL);
    await page.click('#goal-form button[type=submit]');
    const runLink = await page.waitForSelector('#goal-msg a');
    const runId = ((await runLink.textContent()) ?? '').replace(/^run /, '');
    assert.match(runId, /^[0-9a-f-]{36}$/);
    const jobs = await settled(api, runId, seeded.length);
    const inReview = jobs.filter((j) => j.status === 'review');
    assert.equal(inReview.length, 2, JSON.stringify(jobs));

    // The home page updated live: the run and its 4 jobs are listed, two awaiting review.
    await page.waitForFunction((n) => document.querySelectorAll('#jobs-wrap tbody tr[data-job]').length === n, seeded.length);
    await page.waitForFunction(() => document.querySelectorAll('#jobs-wrap [data-status="review"]').length === 2);
    assert.match((await page.textContent('#runs')) ?? '', /for review/);
    assert.match((await page.textContent('#jobs-wrap')) ?? '', /ACC100\d/);
    await page.screenshot({ path: join(shots, '1-home.png'), fullPage: true });

    // Server-side filter: only the jobs awaiting review; the URL carries the filter.
    await page.selectOption('#f-status', 'review');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForFunction(() => /^1–2 of 2 jobs$/.test(document.getElementById('job-count')?.textContent ?? ''));
    assert.match(page.url(), /status=review/);

    // The run page (own URL), then a job page by clicking.
    await page.goto(`${api}/ui/runs/${runId}`);
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr[data-job]').length === n, seeded.length);
    await page.click(`tr[data-job="${inReview[0].jobKey}"] a`);
    await page.waitForURL(`**/ui/jobs/${encodeURIComponent(inReview[0].jobKey)}`);
    await page.waitForSelector('#approve');
    await previewsLoaded(page);
    const previews = await page.$$eval('img[data-preview]', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    assert.ok(previews.length >= 3 && previews.every((w) => w > 0), JSON.stringify(previews));
    assert.match((await page.textContent('#volumes')) ?? '', /Lung_L\s*\d+\.\d mL/);
    assert.ok((await page.$$('#qc tbody tr')).length > 0, 'QC checks listed');
    assert.ok((await page.$$('#steps li')).length >= 5, 'per-step timeline');
    assert.match((await page.textContent('#rtstruct-state')) ?? '', /waiting for review \(not in the PACS\)/);
    assert.match((await page.getAttribute('#viewer-link', 'href')) ?? '', /StudyInstanceUIDs=\d+\.\d/);
    // MRN masked until revealed (no API auth: this caller may see it).
    assert.match((await page.textContent('#patient')) ?? '', /\*\*\*/);
    await page.click('#reveal');
    await page.waitForFunction(() => /Demo, CT\d/.test(document.getElementById('patient')?.textContent ?? ''));
    await page.screenshot({ path: join(shots, '2-job-review.png'), fullPage: true });

    // Approve by clicking: the status turns succeeded without a reload (the marker survives).
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.fill('#review-comment', 'contours look right');
    await page.click('#approve');
    await page.waitForSelector('#job-status[data-status="succeeded"]', { timeout: 180_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
    await page.waitForSelector('#review-decision');
    await page.waitForFunction(() => /stored in the PACS/.test(document.getElementById('rtstruct-state')?.textContent ?? ''));
    await page.screenshot({ path: join(shots, '3-job-approved.png'), fullPage: true });

    // Reject the other with a comment: it ends failed and shows the comment.
    await page.goto(`${api}/ui/jobs/${encodeURIComponent(inReview[1].jobKey)}`);
    await page.waitForSelector('#reject');
    await page.click('#reject');
    assert.match((await page.textContent('#review-msg')) ?? '', /comment is required/);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    const why = 'Left lung <b>leaks</b> into the liver';
    await page.fill('#review-comment', why);
    await page.click('#reject');
    await page.waitForSelector('#job-status[data-status="failed"]', { timeout: 180_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'no reload');
    assert.equal(await page.textContent('#review-comment-shown'), why, 'the comment is shown as text, markup and all');
    assert.match((await page.textContent('#job-reason')) ?? '', /leaks/);
    // A rejected job's RTSTRUCT was written but never stored: the page must not present it as a result.
    assert.match((await page.textContent('#rtstruct-state')) ?? '', /not stored — the contours were rejected/);
    // The timeline names each step once and marks where the job stopped (the review) once.
    const stepWords = await page.$$eval('#steps li > span:first-child', (xs) => xs.map((x) => x.textContent ?? ''));
    assert.equal(new Set(stepWords).size, stepWords.length, `each step once: ${stepWords.join(', ')}`);
    assert.deepEqual(await page.$$eval('#steps li', (xs) => xs.filter((x) => x.querySelector('.s-failed')).map((x) => x.firstElementChild?.textContent)), ['review']);
    const ends = await page.$$eval('ol[aria-label="Key events"] li', (li) => li.filter((x) => /\bfailed\b/.test(x.children[1]?.textContent ?? '')).length);
    assert.equal(ends, 1, 'the end of the job is listed once among the key events');
    await page.screenshot({ path: join(shots, '4-job-rejected.png'), fullPage: true });

    // The failed (missing slices) job: a sentence for people; the raw reason only in the fold.
    const broken = jobs.find((j) => j.status === 'failed');
    assert.ok(broken);
    await page.goto(`${api}/ui/jobs/${encodeURIComponent(broken.jobKey)}`);
    await page.waitForSelector('#job-reason');
    assert.equal(await page.$eval('#job-reason details', (d) => (d as HTMLDetailsElement).open), false);
    assert.ok((await page.isVisible('#job-reason > p')) && !(await page.isVisible('#job-reason pre')));
    await page.screenshot({ path: join(shots, '5-job-failed.png'), fullPage: true });

    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  } catch (e) {
    await failShot();
    throw e;
  } finally {
    await browser?.close().catch(() => undefined);
    if (s.p.exitCode === null) {
      s.p.kill('SIGTERM');
      await Promise.race([s.exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (s.p.exitCode === null) s.p.kill('SIGKILL');
    }
    await rm(profile, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  }
});

test('dashboard in chromium with a token-protected API: asks for the token on 401, sends it as a bearer header, live events included', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-browser-auth-'));
  const db = await openDatabase(loadConfig({ DFA_DATA_DIR: dir }));
  const audit = new AuditStore(db.pool);
  const app = buildApi({
    version: 'test',
    plan: () => Promise.reject(new Error('unused')),
    startRun: () => Promise.reject(new Error('unused')),
    audit,
    getRun: (id) => getRun(db.pool, id),
    eventsAfter: (after, runId) => eventsAfter(db.pool, after, runId),
    latestEventId: () => latestEventId(db.pool),
    readiness: async () => ({}),
    log: memoryLogger(),
    ssePollMs: 100,
  });
  // Bearer auth on every API route, as an API with DFA_API_AUTH=token answers: the pages themselves hold no data.
  const seen: string[] = [];
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/' || req.url.startsWith('/ui/') || req.url === '/favicon.ico') return;
    seen.push(`${req.url.split('?')[0]} ${req.headers.authorization ?? '-'}`);
    if (req.headers.authorization !== 'Bearer s3cret') return reply.status(401).send({ error: 'UNAUTHORIZED', message: 'token required' });
  });
  registerUi(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const profile = await mkdtemp(join(tmpdir(), 'dfa-chromium-'));
  let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    await audit.startRun({ runId: 'run-a', goal: 'contour the lungs', plan: {}, planKey: 'p' });
    const item = { imagingStudy: 'ImagingStudy/1', studyInstanceUid: '1.2.3', accessionNumber: 'ACC-77', description: '<script>alert(1)</script>', modalities: ['CT'], seriesUids: [] };
    const { job } = await audit.claimJob({ jobKey: 'k1', planKey: 'p', runId: 'run-a', plan: {}, item, rerun: false });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(60_000);
    await page.goto(`${api}/`);
    await page.waitForSelector('#auth[open]');
    await page.fill('#auth-token', 's3cret');
    await page.click('#auth-form button[type=submit]');
    await page.waitForSelector('tr[data-job="k1"]');
    // Hostile DICOM text is shown as text: no element was made from it.
    assert.equal(await page.textContent('tr[data-job="k1"] a'), '<script>alert(1)</script>');
    assert.equal(await page.$$eval('#jobs-wrap script', (x) => x.length), 0);
    await page.waitForSelector('#live[data-state="live"]');
    assert.ok(seen.some((l) => l.startsWith('/events Bearer s3cret')), seen.join('\n'));
    // A job event arriving on the authenticated stream updates the row without a reload.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    await db.pool.query(`update dfa.jobs set status = 'failed', reason = 'DICOM_MISSING_SLICES: gap' where job_key = 'k1'`);
    await audit.event('k1', job.generation, 'failed', 'volume', 'DICOM_MISSING_SLICES: gap');
    await page.waitForSelector('tr[data-job="k1"] [data-status="failed"]');
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no reload');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('dfa.apiToken')), 's3cret');
  } finally {
    await browser?.close().catch(() => undefined);
    const closing = app.close();
    app.server.closeAllConnections(); // the open /events stream would hold the close
    await closing;
    await db.close();
    await rm(profile, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
