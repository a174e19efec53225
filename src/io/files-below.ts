import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every regular file below `dir`, as '/'-separated paths relative to it, sorted; a missing folder is
 * empty. Files still being written by an artifact store (`….tmp-<pid>-…`, renamed when complete) are
 * not listed, so a reader never picks up half an object.
 */
export async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else if (e.isFile() && !e.name.includes('.tmp-')) out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}
