import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDfa } from './world.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// `dfa demo --services`: what a newcomer sees — each process with its URL, the run, the results —
// and afterwards no process of the topology is left running.
test('dfa demo --services: every service its own process, URLs printed, jobs as expected, all stopped afterwards', { timeout: 480_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-demo-svc-'));
  try {
    const r = await spawnDfa(['demo', '--services', '--studies', '1', '--size', '64', '--slices', '24'], { DFA_DATA_DIR: dir, DFA_LOG_LEVEL: 'warn' }).output;
    assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const started = [...r.stdout.matchAll(/^ {2}started (.+?) {2,}(\S+) {2}\(pid (\d+)\)$/gm)].map((m) => ({ name: m[1]!.trim(), url: m[2]!, pid: Number(m[3]) }));
    const names = started.map((s) => s.name.split(' ')[0]);
    assert.deepEqual(names, ['PACS', 'FHIR', 'storage', 'ml-1', 'ml-2', 'dicom', 'fhir'], r.stdout.slice(0, 3000));
    assert.equal(new Set(started.map((s) => s.pid)).size, started.length, 'each its own OS process');
    for (const s of started.filter((x) => x.url.startsWith('http://'))) assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /CT chest #1.*: succeeded/);
    assert.match(r.stdout, /every job ended as expected/);
    assert.match(r.stdout, /all service processes stopped/);
    for (const s of started) assert.equal(alive(s.pid), false, `${s.name} (pid ${s.pid}) still running`);
    for (const s of started.filter((x) => x.url.startsWith('http://'))) {
      await assert.rejects(fetch(`${s.url}/health`, { signal: AbortSignal.timeout(3000) }), `${s.name} still answers`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
