import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import type { ArtifactStore } from '../../core/ports.ts';

/**
 * Part 10 files between steps are named by artifact key, never by local path: a job taken over by
 * a worker on another machine (another data directory, an object store behind it) finds them by
 * key. Paths are made only where a step reads the files, through `ArtifactStore.dir`, which fills
 * the local copy from the store when it is not there.
 */

/** The artifact key of a file written into `dir`, the local directory of key prefix `prefix`. */
export function keyInDir(prefix: string, dir: string, path: string): string {
  const rel = relative(dir, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new DfaError('INTERNAL', `file outside the artifact directory ${prefix}`);
  }
  return `${prefix}/${rel.split(sep).join('/')}`;
}

/**
 * Local paths for artifact keys, in the same order. An absolute path (a job checkpointed by an
 * earlier version, which kept paths) is taken as it is.
 */
export async function localPaths(store: ArtifactStore, keys: readonly string[]): Promise<string[]> {
  const dirs = new Map<string, Promise<string>>();
  const dirOf = (prefix: string): Promise<string> => {
    let d = dirs.get(prefix);
    if (!d) dirs.set(prefix, (d = store.dir(prefix)));
    return d;
  };
  return await Promise.all(
    keys.map(async (k) => {
      if (isAbsolute(k)) return k;
      const cut = k.lastIndexOf('/');
      return cut < 0 ? join(await dirOf(''), k) : join(await dirOf(k.slice(0, cut)), k.slice(cut + 1));
    }),
  );
}

/** localPaths, and every file there: a key the store does not hold is ARTIFACT_NOT_FOUND, named. */
export async function presentLocalPaths(store: ArtifactStore, keys: readonly string[]): Promise<string[]> {
  const paths = await localPaths(store, keys);
  await Promise.all(
    paths.map((p, i) =>
      access(p).catch(() => {
        throw new DfaError('ARTIFACT_NOT_FOUND', `DICOM file ${keys[i]} is not in the artifact store`);
      }),
    ),
  );
  return paths;
}
