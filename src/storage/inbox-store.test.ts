/** The standing goal's persistent state on the embedded database (migration 3), across a reopen. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from './db.ts';
import { InboxStore } from './inbox-store.ts';

test('inbox store: acknowledged instances, failed attempts and the started run survive a reopen; done forgets', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-inbox-db-'));
  try {
    let db = await openDatabase({ DFA_DATA_DIR: dir });
    let s = new InboxStore(db.pool);
    assert.equal(await s.state('1.2'), undefined);
    await s.noted('1.2');
    await s.noted('1.2');
    await s.forwarded('1.2', ['1.2.1', '1.2.2']);
    await s.forwarded('1.2', ['1.2.2']);
    assert.equal(await s.failed('1.2', 'ECONNREFUSED', new Date(Date.now() + 5000)), 1);
    assert.equal(await s.failed('1.2', 'ECONNREFUSED again', new Date(Date.now() + 10000)), 2);
    await db.close();

    db = await openDatabase({ DFA_DATA_DIR: dir });
    s = new InboxStore(db.pool);
    const st = await s.state('1.2');
    assert.equal(st?.attempts, 2);
    assert.equal(st?.lastError, 'ECONNREFUSED again');
    assert.deepEqual([...(st?.forwarded ?? [])].sort(), ['1.2.1', '1.2.2']);
    await s.started('1.2', 'run-7');
    assert.equal((await s.state('1.2'))?.runId, 'run-7');
    assert.deepEqual((await s.pending()).map((p) => [p.studyInstanceUid, p.runId]), [['1.2', 'run-7']]);
    await s.done('1.2', ['1.2.1', '1.2.2']);
    assert.equal(await s.state('1.2'), undefined);
    assert.deepEqual(await s.pending(), []);
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
