import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { DfaError } from '../core/errors.ts';
import type { ArtifactStore } from '../core/ports.ts';
import { writeAtomically } from './artifact-keys.ts';
import { filesBelow } from '../io/files-below.ts';

/**
 * Artifact store on local disk under a root directory (DFA_DATA_DIR/artifacts).
 * Writes are atomic (temp file + rename) so a crash never leaves a half-written artifact.
 * Keys are '/'-separated relative paths; '..' and absolute keys are refused.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Where the store is, for logs. */
  get location(): string {
    return this.root;
  }

  private pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (p !== this.root && !p.startsWith(this.root + sep)) {
      throw new DfaError('INTERNAL', `artifact key escapes the store: ${key}`);
    }
    return p;
  }

  async dir(prefix: string): Promise<string> {
    const p = this.pathOf(prefix);
    await mkdir(p, { recursive: true });
    return p;
  }

  /** Files written into dir(prefix) are already where readers look. */
  async commit(prefix: string): Promise<void> {
    this.pathOf(prefix);
  }

  async put(key: string, data: Uint8Array): Promise<string> {
    const p = this.pathOf(key);
    await writeAtomically(p, data);
    return p;
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.pathOf(key));
    } catch (e) {
      throw new DfaError('ARTIFACT_NOT_FOUND', `no artifact '${key}'`, { cause: e });
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Keys of all files below a prefix, sorted. */
  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix);
    const at = relative(this.root, base).split(sep).join('/');
    return (await filesBelow(base)).map((rel) => (at ? `${at}/${rel}` : rel));
  }

  async remove(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }
}
