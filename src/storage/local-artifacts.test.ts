import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from './local-artifacts.ts';
import { isDfaError } from '../core/errors.ts';
import { artifactStoreContract } from '../../test/contracts/artifact-store.contract.ts';

test('local artifact store: put/get/list/remove, atomic writes, no escaping the root', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-art-'));
  try {
    const s = new LocalArtifactStore(root);
    const p = await s.put('jobs/a/out/rt.dcm', new Uint8Array([1, 2, 3]));
    assert.ok(p.startsWith(root));
    assert.deepEqual([...(await s.get('jobs/a/out/rt.dcm'))], [1, 2, 3]);
    await s.put('jobs/a/in/1.dcm', new Uint8Array([4]));
    assert.deepEqual(await s.list('jobs/a'), ['jobs/a/in/1.dcm', 'jobs/a/out/rt.dcm']);
    assert.equal(await s.exists('jobs/a/in/1.dcm'), true);
    await s.remove('jobs/a/in');
    assert.equal(await s.exists('jobs/a/in/1.dcm'), false);
    await assert.rejects(s.get('nope'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
    await assert.rejects(s.dir('../outside'), (e) => isDfaError(e));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

// The shared contract: on local disk, another machine is one that mounts the same directory.
artifactStoreContract('local disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-art-'));
  return {
    store: new LocalArtifactStore(root),
    otherMachine: async () => new LocalArtifactStore(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});
