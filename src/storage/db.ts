import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import { migrate } from './migrations.ts';
import { takePidLock } from '../io/pid-lock.ts';
import { PgliteServer } from './pglite-server.ts';

/**
 * The one PostgreSQL every part of the agent uses (DESIGN.md "State: Postgres everywhere"):
 * audit tables, pg-boss's queue and LangGraph's checkpoints all live in it.
 *
 * - DFA_DATABASE_URL set ⇒ a real PostgreSQL (scale-out: `dfa worker` on several machines).
 * - unset ⇒ embedded PGlite (Postgres in WASM) persisted under DFA_DATA_DIR/pg, served on a loopback
 *   port (pglite-server.ts) so ordinary `pg` clients (pg-boss, the checkpointer) work unchanged.
 *   PGlite is one connection: the server queues the clients' protocol units and, while a
 *   transaction is open, serves only the client that opened it.
 *
 * Only one process may open an embedded database directory; a lock file names the holder so a
 * second process fails with a clear reason instead of corrupting it.
 */
export interface Database {
  /** postgres:// URL any `pg` client can use. */
  readonly url: string;
  /** True when this process hosts the embedded PGlite. */
  readonly embedded: boolean;
  /** A small pool for our own tables (audit). */
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Run our migrations (default true). */
  migrate?: boolean;
}

export async function openDatabase(cfg: Pick<Config, 'DFA_DATA_DIR' | 'DFA_DATABASE_URL'>, opts: OpenDatabaseOptions = {}): Promise<Database> {
  if (cfg.DFA_DATABASE_URL) return await openExternal(cfg.DFA_DATABASE_URL, opts);
  return await openEmbedded(join(resolve(cfg.DFA_DATA_DIR), 'pg'), opts);
}

async function openExternal(url: string, opts: OpenDatabaseOptions): Promise<Database> {
  const pool = newPool(url);
  try {
    await pool.query('select 1');
    if (opts.migrate !== false) await migrate(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new DfaError('SERVICE_UNREACHABLE', `database ${redactUrl(url)}: ${errMsg(e)}`, { cause: e });
  }
  return { url, embedded: false, pool, close: () => pool.end() };
}

async function openEmbedded(dir: string, opts: OpenDatabaseOptions): Promise<Database> {
  await mkdir(dir, { recursive: true });
  const lock = takePidLock(`${dir}.lock`, (pid) =>
    new DfaError('DATABASE_ERROR', `the embedded database is in use by process ${pid}; stop it, or share a PostgreSQL via DFA_DATABASE_URL`),
  );
  // A stale lock (kill -9) is taken over: PGlite recovers from its WAL on open.
  // Loaded lazily: a worker pointed at a real PostgreSQL never pays for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite> | undefined;
  let server: PgliteServer | undefined;
  try {
    db = await PGlite.create({ dataDir: dir });
    server = new PgliteServer(db);
    const port = await server.start('127.0.0.1', 0);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
    const pool = newPool(url);
    if (opts.migrate !== false) await migrate(pool);
    const s = server;
    const d = db;
    let closed = false;
    return {
      url,
      embedded: true,
      pool,
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end().catch(() => undefined);
        await s.stop();
        await d.close();
        lock.release();
      },
    };
  } catch (e) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    lock.release();
    throw new DfaError('DATABASE_ERROR', `embedded database at ${dir}: ${errMsg(e)}`, { cause: e });
  }
}

/** Pools sized small: the embedded database serves one query at a time anyway. */
export function newPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 10_000 });
  // An idle client losing its socket must not crash the process (pg emits 'error' on the pool).
  pool.on('error', () => undefined);
  return pool;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
