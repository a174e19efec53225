/**
 * Starts a real PostgreSQL (Debian `postgresql`, 15) for a test file: a fresh cluster in a temp
 * dir, on a free loopback port, unix socket in the temp dir. As root, initdb/postgres run as the
 * `postgres` user (PostgreSQL refuses to run as root) — spawned with that uid directly rather than
 * through runuser, so our stop signal reaches postgres itself. fsync off: test data only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresHandle {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const run = promisify(execFile);

async function asPostgres(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const { stdout: u } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(u), gid: Number(g) };
}

export async function startPostgres(): Promise<PostgresHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  await mkdir(sock);
  const who = await asPostgres();
  if (who.uid !== undefined && who.gid !== undefined) {
    await chown(dir, who.uid, who.gid);
    await chown(sock, who.uid, who.gid);
  }
  const as = { ...who, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } };
  await run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], as);
  const port = await freePort();
  const args = [
    '-D', data, '-p', String(port), '-k', sock,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=200',
  ];
  const proc: ChildProcess = spawn(join(PG_BIN, 'postgres'), args, { ...as, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (proc.exitCode === null) {
      // SIGINT = PostgreSQL "fast shutdown": clients disconnected, clean stop.
      proc.kill('SIGINT');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (proc.exitCode !== null || i > 200) {
        await stop();
        throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, port, stop };
}
