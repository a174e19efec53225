import pg from 'pg';
import type { Logger } from '../../core/log.ts';

/**
 * Cross-process wake-up for the job queue on a shared PostgreSQL: the runner NOTIFYs after it has
 * queued jobs, every `dfa worker` LISTENs and fetches at once instead of at its next poll (pg-boss
 * polls, at least every 0.5 s; we poll every 1 s). Only a shortcut: a missed notification (the
 * listener's connection dropped) costs at most one polling interval, so nothing depends on it.
 * Not used on the embedded database, which serves one process whose workers are notified directly.
 */
export const WAKE_CHANNEL = 'dfa_study_job';

/** NOTIFY every listening worker (call it after the jobs' transactions have committed). */
export async function wakeWorkers(pool: pg.Pool): Promise<void> {
  await pool.query('select pg_notify($1, $2)', [WAKE_CHANNEL, '']);
}

export interface WakeListener {
  close(): Promise<void>;
}

/** LISTEN on its own connection (a pooled one would be handed to other queries) and call `onWake`. */
export async function listenForWakeUps(url: string, onWake: () => void, log: Logger): Promise<WakeListener> {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const later = () => {
    if (!closed) retry = setTimeout(() => void connect().catch(later), 5000).unref();
  };
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => {
      if (n.channel === WAKE_CHANNEL) onWake();
    });
    c.on('error', (e) => {
      // The connection is gone: polling still finds the jobs; listen again in a while.
      log.debug('wake-up listener lost its connection', { error: e.message });
      void c.end().catch(() => undefined);
      if (client === c) {
        client = undefined;
        later();
      }
    });
    try {
      await c.connect();
      await c.query(`listen ${WAKE_CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    if (closed) await c.end();
    else client = c;
  };
  try {
    await connect();
  } catch (e) {
    log.debug('wake-up listener not started yet; workers poll meanwhile', { error: e instanceof Error ? e.message : String(e) });
    later();
  }
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
