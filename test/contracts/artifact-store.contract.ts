import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDfaError } from '../../src/core/errors.ts';
import type { ArtifactStore } from '../../src/core/ports.ts';

/**
 * One suite every ArtifactStore runs (local disk, S3): what the job steps rely on.
 * `open()` gives a store; `otherMachine()` a second store over the same artifacts as another
 * worker sees them (S3: same bucket and prefix, an empty local working copy; local disk: the same
 * directory — a shared volume; the storage_service: the same service, another working copy).
 */
export interface ArtifactStoreFixture {
  readonly store: ArtifactStore;
  otherMachine(): Promise<ArtifactStore>;
  close(): Promise<void>;
}

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

export function artifactStoreContract(name: string, open: () => Promise<ArtifactStoreFixture>): void {
  const withStore = (fn: (f: ArtifactStoreFixture) => Promise<void>) => async () => {
    const f = await open();
    try {
      await fn(f);
    } finally {
      await f.close();
    }
  };

  test(`${name}: put / get / exists / list / remove, keys sorted, prefixes end at '/'`, withStore(async ({ store: s }) => {
    const p = await s.put('jobs/a/out/rt.dcm', bytes(1, 2, 3));
    assert.deepEqual([...(await readFile(p))], [1, 2, 3], 'put returns a local path holding the bytes');
    assert.deepEqual([...(await s.get('jobs/a/out/rt.dcm'))], [1, 2, 3]);
    await s.put('jobs/a/in/1.dcm', bytes(4));
    await s.put('jobs/ab/x', bytes(5)); // shares the text 'jobs/a' but not the folder
    assert.deepEqual(await s.list('jobs/a'), ['jobs/a/in/1.dcm', 'jobs/a/out/rt.dcm']);
    assert.deepEqual(await s.list(''), ['jobs/a/in/1.dcm', 'jobs/a/out/rt.dcm', 'jobs/ab/x']);
    assert.deepEqual(await s.list('jobs/none'), []);
    assert.equal(await s.exists('jobs/a/in/1.dcm'), true);
    assert.equal(await s.exists('jobs/a/in/2.dcm'), false);
    await s.put('jobs/a/out/rt.dcm', bytes(9)); // overwrite: the new bytes, whole
    assert.deepEqual([...(await s.get('jobs/a/out/rt.dcm'))], [9]);
    await s.remove('jobs/a/in');
    assert.equal(await s.exists('jobs/a/in/1.dcm'), false);
    await s.remove('jobs/ab/x'); // one artifact by its own key
    assert.deepEqual(await s.list(''), ['jobs/a/out/rt.dcm']);
    await s.remove('jobs/never-there');
  }));

  test(`${name}: release() drops only the local working copy (a store with one); the artifacts stay and dir() fetches them again`, withStore(async ({ store: s }) => {
    const d = await s.dir('jobs/r/input');
    await writeFile(join(d, '1.dcm'), bytes(1, 2));
    await s.commit('jobs/r/input');
    if (!s.release) {
      // Local disk: the folder is the store itself, there is no copy to drop.
      assert.equal(s.constructor.name, 'LocalArtifactStore', 'only local disk has no working copy to release');
      return;
    }
    await s.release('jobs/r/input');
    await assert.rejects(readFile(join(d, '1.dcm')), /ENOENT/, 'the working copy is gone');
    assert.deepEqual([...(await s.get('jobs/r/input/1.dcm'))], [1, 2]);
    assert.deepEqual([...(await readFile(join(await s.dir('jobs/r/input'), '1.dcm')))], [1, 2]);
    await assert.rejects(s.release(''), (e) => isDfaError(e, 'ARTIFACT_KEY_INVALID'), 'never the whole copy at once');
  }));

  test(`${name}: a missing artifact is ARTIFACT_NOT_FOUND; keys that leave the store are refused`, withStore(async ({ store: s }) => {
    await assert.rejects(s.get('nope/x'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
    for (const bad of ['../outside', 'a/../../b']) {
      await assert.rejects(s.dir(bad), (e) => isDfaError(e), bad);
      await assert.rejects(s.put(bad, bytes(1)), (e) => isDfaError(e), bad);
    }
  }));

  test(`${name}: files written into dir() and committed are seen by another machine, in dir() and get()`, withStore(async ({ store: s, otherMachine }) => {
    const d = await s.dir('jobs/j1/input');
    await mkdir(join(d, '1.2.3'), { recursive: true });
    await writeFile(join(d, '1.2.3', 'a.dcm'), text('slice a'));
    await writeFile(join(d, '1.2.3', 'b.dcm'), text('slice b'));
    await s.commit('jobs/j1/input');
    await s.commit('jobs/j1/input'); // again: harmless
    const other = await otherMachine();
    assert.deepEqual(await other.list('jobs/j1'), ['jobs/j1/input/1.2.3/a.dcm', 'jobs/j1/input/1.2.3/b.dcm']);
    const d2 = await other.dir('jobs/j1/input');
    assert.equal(await readFile(join(d2, '1.2.3', 'b.dcm'), 'utf8'), 'slice b');
    assert.equal(new TextDecoder().decode(await other.get('jobs/j1/input/1.2.3/a.dcm')), 'slice a');
    // What the other machine puts, the first one reads (the source of truth is shared).
    await other.put('jobs/j1/out/rt.dcm', text('rt'));
    const out = await s.dir('jobs/j1/out');
    assert.equal(await readFile(join(out, 'rt.dcm'), 'utf8'), 'rt');
    // No temporary names are ever listed or left behind.
    // (One after another: s3rver, unlike S3, does not keep concurrent PUTs of one key apart.)
    for (let i = 0; i < 4; i++) await s.put('jobs/j1/many/f', text(`v${i}`));
    assert.deepEqual(await s.list('jobs/j1/many'), ['jobs/j1/many/f']);
    assert.deepEqual((await readdir(join(await s.dir('jobs/j1'), 'many'))).filter((n) => n.includes('.tmp-')), []);
    assert.equal(new TextDecoder().decode(await s.get('jobs/j1/many/f')), 'v3');
  }));

  test(`${name}: removing a prefix removes it for every machine`, withStore(async ({ store: s, otherMachine }) => {
    await s.put('jobs/j2/volume/volume.json', text('{}'));
    const other = await otherMachine();
    await other.remove('jobs/j2/volume');
    assert.equal(await s.exists('jobs/j2/volume/volume.json'), false);
    assert.deepEqual(await s.list('jobs/j2'), []);
  }));

  const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  /** Same bytes, whatever the view type (Buffer or Uint8Array). */
  const same = (a: Uint8Array, b: Uint8Array, what: string) => assert.ok(a.length === b.length && Buffer.compare(a, b) === 0, `${what}: bytes differ (${a.length} vs ${b.length})`);

  test(`${name}: bytes round-trip exactly (every byte value, empty, 3 MB), in get() and in the file put() returns`, withStore(async ({ store: s }) => {
    const cases: [string, Uint8Array][] = [['b/all-bytes.bin', Uint8Array.from({ length: 256 }, (_, i) => i)], ['b/empty', new Uint8Array(0)], ['b/c/large.raw', pattern(3 * 1024 * 1024, 7)]];
    for (const [key, data] of cases) {
      const path = await s.put(key, data);
      same(await s.get(key), data, key);
      same(await readFile(path), data, `${key}: the file put() returned`);
    }
  }));

  test(`${name}: readers see the old bytes or the new, never half (overwrite while reading)`, withStore(async ({ store: s }) => {
    const a = pattern(2 * 1024 * 1024, 1);
    const b = pattern(2 * 1024 * 1024, 2);
    await s.put('race/obj', a);
    const write = s.put('race/obj', b);
    const reads = Array.from({ length: 5 }, () => s.get('race/obj'));
    await write;
    for (const r of await Promise.all(reads)) same(r, r[0] === a[0] ? a : b, 'a read during an overwrite');
    same(await s.get('race/obj'), b, 'after the overwrite');
  }));
}
