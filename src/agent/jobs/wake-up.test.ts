import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPostgres } from '../../../test/support/postgres.ts';
import { createLogger } from '../../core/log.ts';
import { newPool } from '../../storage/db.ts';
import { listenForWakeUps, wakeWorkers } from './wake-up.ts';

test('a NOTIFY from another connection wakes every listening worker process', { timeout: 60_000 }, async () => {
  const pg = await startPostgres();
  const pool = newPool(pg.url);
  const log = createLogger({ level: 'warn' });
  try {
    const woken: string[] = [];
    let resolveBoth: () => void = () => undefined;
    const both = new Promise<void>((res) => (resolveBoth = res));
    const onWake = (who: string) => () => {
      woken.push(who);
      if (woken.includes('a') && woken.includes('b')) resolveBoth();
    };
    const a = await listenForWakeUps(pg.url, onWake('a'), log);
    const b = await listenForWakeUps(pg.url, onWake('b'), log);
    await wakeWorkers(pool);
    await both;
    assert.deepEqual([...woken].sort(), ['a', 'b']);

    await a.close();
    await b.close();
  } finally {
    await pool.end();
    await pg.stop();
  }
});

test('a listener that cannot connect does not throw: the workers keep polling', async () => {
  const l = await listenForWakeUps('postgres://nobody@127.0.0.1:1/none', () => undefined, createLogger({ level: 'warn' }));
  await l.close();
});
