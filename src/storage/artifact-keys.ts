import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DfaError } from '../core/errors.ts';

/**
 * What every artifact store accepts as a key: '/'-separated relative names, no '.', '..' or empty
 * segments, no backslash or control characters ('' = the whole store, for dir / list / remove).
 * Returns the key so a caller can use it inline.
 */
export function checkArtifactKey(key: string): string {
  if (key === '') return key;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  const bad = key.startsWith('/') || /[\\\u0000-\u001f]/.test(key) || key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new DfaError('INTERNAL', `artifact key escapes the store: ${key}`);
  return key;
}

/** Write a file so that readers see the old content or the new, never part of it (temp name + rename, POSIX rename(2)). */
export async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
