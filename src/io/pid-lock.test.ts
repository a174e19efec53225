import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DfaError, isDfaError } from '../core/errors.ts';
import { takePidLock } from './pid-lock.ts';

const inUse = (pid: number) => new DfaError('SERVICE_UNREACHABLE', `in use by ${pid}`);

test('pid lock: exclusive in this process, refused while another live process holds it, taken over when stale', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-lock-'));
  const path = join(dir, 'x.lock');
  try {
    const a = takePidLock(path, inUse);
    assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid));
    assert.throws(() => takePidLock(path, inUse), (e) => isDfaError(e) && e.message === `in use by ${process.pid}`);
    a.release();
    assert.equal(existsSync(path), false);

    // A live holder (a sleeping child) is refused, naming its pid.
    const child = spawn('sleep', ['30']);
    await writeFile(path, String(child.pid));
    assert.throws(() => takePidLock(path, inUse), (e) => isDfaError(e) && e.message === `in use by ${child.pid}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // Its holder is gone (kill -9): the stale lock is taken over.
    const b = takePidLock(path, inUse);
    assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid));
    b.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
