import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DfaError } from '../core/errors.ts';

/**
 * One process per on-disk store (embedded database, FHIR journal, embedded PACS index): a lock file
 * holding the owner's pid. Two processes appending to one store would each miss the other's writes.
 * A lock whose holder no longer runs (kill -9, or an earlier container run that had our pid) is
 * taken over; a second open inside this process is refused like one from another process.
 */
const HELD = new Set<string>();

export interface PidLock {
  readonly path: string;
  release(): void;
}

/** `inUse(holderPid)` builds the error that names the holder and says what to do instead. */
export function takePidLock(path: string, inUse: (holderPid: number) => DfaError): PidLock {
  const abs = resolve(path);
  if (HELD.has(abs)) throw inUse(process.pid);
  try {
    writeFileSync(abs, String(process.pid), { flag: 'wx' });
  } catch {
    let pid = 0;
    try {
      pid = Number(readFileSync(abs, 'utf8').trim());
    } catch {
      /* vanished meanwhile: take it */
    }
    if (pid > 0 && pid !== process.pid && isAlive(pid)) throw inUse(pid);
    writeFileSync(abs, String(process.pid));
  }
  HELD.add(abs);
  let released = false;
  return {
    path: abs,
    release() {
      if (released) return;
      released = true;
      HELD.delete(abs);
      rmSync(abs, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
