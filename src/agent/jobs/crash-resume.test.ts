/**
 * kill -9 at a chosen step, restart, and the job resumes where it stopped: every finished step ran
 * once, the step in progress is re-executed without duplicates (deterministic UIDs, conditional
 * FHIR create). Real embedded PGlite in a child process that really dies (SIGKILL).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FakeStudy, FakeWorldState } from '../../../test/support/job-fakes.ts';
import type { RunResult } from '../runner.ts';

const CHILD = fileURLToPath(new URL('../../../test/support/job-child.ts', import.meta.url));

function startChild(root: string, studies: FakeStudy[], hang?: string) {
  const p = spawn(process.execPath, [CHILD], {
    env: { ...process.env, JOB_CHILD_ROOT: root, JOB_CHILD_STUDIES: JSON.stringify(studies), JOB_CHILD_HANG: hang ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((res) =>
    p.on('exit', (code, signal) => res({ code, signal, out, err })),
  );
  return { p, exited };
}

async function waitForLine(file: string, line: string): Promise<void> {
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').includes(line)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function crashAndResume(hangAt: 'segment' | 'recordResults') {
  const root = await mkdtemp(join(tmpdir(), 'dfa-crash-'));
  const a = `1.2.826.0.1.3680043.9.7778.${hangAt.length}1`;
  const b = `1.2.826.0.1.3680043.9.7778.${hangAt.length}2`;
  const studies: FakeStudy[] = [{ uid: a, modality: 'CT', patientId: 'P1' }, { uid: b, modality: 'CT', patientId: 'P2' }];
  try {
    const first = startChild(root, studies, hangAt);
    await waitForLine(join(root, 'calls.log'), `hang ${hangAt}`);
    first.p.kill('SIGKILL');
    const dead = await first.exited;
    assert.equal(dead.signal, 'SIGKILL');

    const second = startChild(root, studies);
    const done = await second.exited;
    assert.equal(done.code, 0, done.err);
    const r = JSON.parse(done.out) as RunResult;
    const world = JSON.parse(await readFile(join(root, 'world.json'), 'utf8')) as FakeWorldState;
    return { r, world, a, b, root };
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw e;
  }
}

const count = (w: FakeWorldState, c: string) => w.calls.filter((x) => x === c).length;

test('killed (SIGKILL) while segmenting: restarted, the job resumes at segment; nothing done twice', async () => {
  const { r, world, a, b, root } = await crashAndResume('segment');
  try {
    assert.deepEqual(r.summary, { succeeded: 2, failed: 0, skipped: 0, review: 0 });
    for (const s of [a, b]) {
      assert.equal(count(world, `retrieve ${s}`), 1, 'retrieve ran once');
      assert.equal(count(world, `ensureTask ${s}`), 1, 'Task ensured once');
      // The volume step ran once; a segment resumed in the new process loads the volume from the
      // retrieved files again (volume-artifacts.ts saves no voxels), so one extra load per re-run segment.
      assert.equal(count(world, `loadVolume ${s}`), world.calls.filter((c) => c.startsWith(`segment ${s} `)).length, 'volume loaded once per segment run');
      assert.equal(count(world, `store ${s}`), 1, 'one RTSTRUCT stored');
      assert.equal(count(world, `recordResults ${s}`), 1);
    }
    // The step in progress when killed ran again (it never finished); nothing before it did.
    assert.equal(world.calls.filter((c) => c.startsWith('segment ')).length, 3);
    assert.equal(Object.keys(world.stored).length, 2);
    for (const t of Object.values(world.tasks)) assert.deepEqual(t.history, ['in-progress', 'completed']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('killed after writing the FHIR report but before its checkpoint: re-executed, no second report', async () => {
  const { r, world, a, root } = await crashAndResume('recordResults');
  try {
    assert.deepEqual(r.summary, { succeeded: 2, failed: 0, skipped: 0, review: 0 });
    assert.equal(count(world, `recordResults ${a}`), 2, 'the unfinished step ran again');
    for (const rep of Object.values(world.reports)) assert.equal(rep.creates, 1);
    assert.equal(count(world, `store ${a}`), 1);
    assert.equal(count(world, `retrieve ${a}`), 1);
    assert.equal(Object.keys(world.stored).length, 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
