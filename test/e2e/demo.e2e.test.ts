import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDfa } from './world.ts';

// The README's first command, on embedded everything: it must exit 0 with every job as expected.
test('dfa demo: CTs succeed, MR skipped, broken series failed with its reason; exit 0; dfa jobs sees the audit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-demo-'));
  try {
    const r = await spawnDfa(['demo', '--studies', '2', '--size', '96', '--slices', '40', '--json'], { DFA_DATA_DIR: dir, DFA_LOG_LEVEL: 'warn' }).output;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const out = JSON.parse(r.stdout) as { summary: Record<string, number>; mismatches: string[]; jobs: { status: string; reason?: string; volumesMl?: Record<string, number> }[] };
    assert.deepEqual(out.mismatches, []);
    assert.deepEqual(out.summary, { succeeded: 2, failed: 1, skipped: 1, review: 0 });
    assert.match(out.jobs.find((j) => j.status === 'failed')!.reason!, /DICOM_MISSING_SLICES/);
    for (const j of out.jobs.filter((x) => x.status === 'succeeded')) assert.ok(j.volumesMl!.Lung_L > 500 && j.volumesMl!.Lung_R > 500);

    const jobs = await spawnDfa(['jobs', '--json'], { DFA_DATA_DIR: join(dir, 'demo') }).output;
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.equal((JSON.parse(jobs.stdout) as unknown[]).length, 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
