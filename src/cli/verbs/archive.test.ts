/**
 * The results archive end to end: a goal run (real runner, job graph and embedded database; fake
 * PACS/FHIR ports) archives each succeeded job's results; `dfa archive list|prune` read and prune it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { memoryLogger } from '../../core/log.ts';
import { runPlan } from '../../agent/runner.ts';
import { openDatabase } from '../../storage/db.ts';
import { LocalArtifactStore } from '../../storage/local-artifacts.ts';
import { FakeWorld, keyOf, lungPlan } from '../../../test/support/job-fakes.ts';
import { main } from '../main.ts';

test('a finished job is archived under archive/<study>/<job>/; dfa archive list finds it by study, patient and date (masked IDs); prune deletes past retention', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-archive-verb-'));
  try {
    const config = loadConfig({ DFA_DATA_DIR: join(root, 'data'), DFA_STORAGE_URL: join(root, 'artifacts') });
    const uid = '1.2.826.0.1.3680043.9.7779.77';
    const world = new FakeWorld({ root, studies: [{ uid, modality: 'CT', patientId: 'PATIENT-4711' }] });
    const db = await openDatabase(config);
    const plan = lungPlan();
    const r = await runPlan(plan, db, world.deps(), { queue: { pollingIntervalSeconds: 0.5 }, pollMs: 100 });
    await db.close();
    assert.equal(r.jobs[0]?.status, 'succeeded');
    const jobKey = keyOf(plan, uid);

    const store = new LocalArtifactStore(join(root, 'artifacts'));
    const keys = await store.list(`archive/${uid}`);
    assert.ok(keys.some((k) => k.endsWith('/rtstruct.dcm')), keys.join(', '));
    assert.ok(keys.some((k) => k.endsWith('/record.json')));
    assert.ok(keys.some((k) => k.includes('/previews/')));

    const lines: string[] = [];
    const ctx = { config, out: (s: string) => lines.push(s), log: memoryLogger() };
    const list = async (...args: string[]) => {
      lines.length = 0;
      assert.equal(await main(['archive', 'list', '--json', ...args], ctx), 0);
      return (JSON.parse(lines.join('\n')) as { entries: { studyInstanceUid: string; jobKey: string; patientId?: string; record: { model: { name: string }; outputs: { rtstruct?: unknown }; fhir: string[] } }[] }).entries;
    };
    const [e] = await list('--study', uid);
    assert.equal(e?.jobKey, jobKey);
    assert.equal(e?.patientId, '***11', 'patient IDs masked unless --show-phi');
    assert.ok(e?.record.outputs.rtstruct);
    assert.ok(e?.record.fhir.some((f) => f.startsWith('DiagnosticReport/')), JSON.stringify(e?.record.fhir));
    assert.equal((await list('--patient', 'PATIENT-4711', '--show-phi'))[0]?.patientId, 'PATIENT-4711');
    const today = new Date().toISOString().slice(0, 10);
    assert.equal((await list('--from', today, '--to', today)).length, 1);
    assert.equal((await list('--to', '2000-01-01')).length, 0);

    lines.length = 0;
    assert.equal(await main(['archive', 'list', '--study', uid], ctx), 0);
    assert.match(lines.join('\n'), /1 archived result/);
    assert.doesNotMatch(lines.join('\n'), /PATIENT-4711/);

    // Retention: nothing is a day old yet; unset retention keeps everything.
    lines.length = 0;
    assert.equal(await main(['archive', 'prune'], ctx), 0);
    assert.match(lines.join('\n'), /kept forever/);
    lines.length = 0;
    assert.equal(await main(['archive', 'prune', '--older-than-days', '1'], ctx), 0);
    assert.match(lines.join('\n'), /deleted 0 archive entries/);
    // Retention reaching into the future (the clock moved): with DFA_ARCHIVE_RETENTION_DAYS the entry goes, objects and row.
    const later = { ...ctx, config: loadConfig({ DFA_DATA_DIR: join(root, 'data'), DFA_STORAGE_URL: join(root, 'artifacts'), DFA_ARCHIVE_RETENTION_DAYS: '1' }) };
    const realNow = Date.now;
    Date.now = () => realNow() + 3 * 86_400_000;
    try {
      lines.length = 0;
      assert.equal(await main(['archive', 'prune', '--dry-run'], later), 0);
      assert.match(lines.join('\n'), /would delete 1 archive entry/);
      lines.length = 0;
      assert.equal(await main(['archive', 'prune'], later), 0);
      assert.match(lines.join('\n'), /deleted 1 archive entry/);
    } finally {
      Date.now = realNow;
    }
    assert.deepEqual(await store.list(`archive/${uid}`), []);
    assert.equal((await list('--study', uid)).length, 0);
    assert.equal(await main(['archive', 'nonsense'], ctx), 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
