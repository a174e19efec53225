/**
 * `dfa jobs` and `dfa run` argument handling through the real CLI entry (main), on a real embedded
 * database filled by a run with fake ports.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { memoryLogger } from '../../core/log.ts';
import { runPlan } from '../../agent/runner.ts';
import { openDatabase } from '../../storage/db.ts';
import { FakeWorld, keyOf, lungPlan } from '../../../test/support/job-fakes.ts';
import { main } from '../main.ts';

test('dfa jobs lists the audit table (text and --json, by run, events); dfa run refuses a bad plan with exit 2', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-jobs-verb-'));
  try {
    const config = loadConfig({ DFA_DATA_DIR: join(root, 'data') });
    const uid = '1.2.826.0.1.3680043.9.7779.1';
    const world = new FakeWorld({ root, studies: [{ uid, modality: 'CT', patientId: 'P1' }, { uid: `${uid}1`, modality: 'MR', patientId: 'P1' }] });
    const db = await openDatabase(config);
    const r = await runPlan(lungPlan(), db, world.deps(), { queue: { pollingIntervalSeconds: 0.5 }, pollMs: 100 });
    await db.close();

    const lines: string[] = [];
    const ctx = { config, out: (s: string) => lines.push(s), log: memoryLogger() };
    assert.equal(await main(['jobs', '--json', '--run', r.runId], ctx), 0);
    const jobs = JSON.parse(lines.join('\n')) as { studyInstanceUid: string; status: string; outputSops: string[]; model: unknown; reason: string | null }[];
    assert.equal(jobs.length, 2);
    const ct = jobs.find((j) => j.studyInstanceUid === uid);
    assert.equal(ct?.status, 'succeeded');
    assert.deepEqual(ct?.outputSops, [r.jobs.find((j) => j.studyInstanceUid === uid)?.rtstruct?.sopInstanceUid]);
    assert.deepEqual(ct?.model, { name: 'classical', version: '1.0.0' });
    assert.match(jobs.find((j) => j.studyInstanceUid !== uid)?.reason ?? '', /no CT series/);

    lines.length = 0;
    assert.equal(await main(['jobs'], ctx), 0);
    const text = lines.join('\n');
    assert.match(text, new RegExp(`succeeded +patient \\*\\*\\*.*\\n +study ${uid.replace(/\./g, '\\.')}`), 'who first (MRN masked), then the study');
    assert.match(text, /skipped .* — find: no CT series \(study has MR\)/);
    assert.match(text, /model classical 1\.0\.0/);

    lines.length = 0;
    assert.equal(await main(['jobs', '--events', keyOf(lungPlan(), uid)], ctx), 0);
    assert.match(lines.join('\n'), /step +segment/);

    lines.length = 0;
    assert.equal(await main(['jobs', '--runs'], ctx), 0);
    assert.match(lines.join('\n'), new RegExp(`${r.runId} .*1 succeeded`));

    const bad = join(root, 'bad-plan.json');
    await writeFile(bad, JSON.stringify({ goal: 'x', selection: {}, pipeline: { task: 'segmentation', structures: [] } }));
    assert.equal(await main(['run', '--plan-json', bad], ctx), 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

