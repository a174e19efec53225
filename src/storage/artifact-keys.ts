import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkArtifactPrefix } from '../core/artifact-key.ts';

/**
 * What every artifact store accepts as a key: the one rule in src/core/artifact-key.ts (the storage
 * service checks the same), with '' meaning the whole store (for dir / list / remove).
 */
export function checkArtifactKey(key: string): string {
  return checkArtifactPrefix(key, true);
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
