import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../core/config.ts';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { artifactStoreContract } from '../../test/contracts/artifact-store.contract.ts';
import { startTestS3, type TestS3 } from '../../test/support/s3-server.ts';
import { artifactStoreFromConfig } from './artifacts-from-config.ts';
import { S3ArtifactStore } from './s3-artifacts.ts';

// Against a real S3-protocol server on loopback (test/support/s3-server.ts says which and why).
let s3: TestS3;
const temps: string[] = [];
before(async () => {
  s3 = await startTestS3();
});
after(async () => {
  await s3.stop();
  for (const t of temps) await rm(t, { recursive: true, force: true });
});
const cache = async () => {
  const d = await mkdtemp(join(tmpdir(), 'dfa-s3cache-'));
  temps.push(d);
  return d;
};
let n = 0;
const storeAt = async (prefix: string, o: { pageSize?: number } = {}) =>
  new S3ArtifactStore({ client: s3.client(), bucket: s3.bucket, prefix, cacheDir: await cache(), ...o });

artifactStoreContract('S3 (s3rver)', async () => {
  const prefix = `contract-${++n}`;
  return { store: await storeAt(prefix), otherMachine: () => storeAt(prefix), close: async () => undefined };
});

test('S3: DFA_STORAGE_URL=s3://… with endpoint, path style and keys from the settings; the local copy is DFA_DATA_DIR/artifacts', async () => {
  const dataDir = await cache();
  const cfg = loadConfig({ DFA_DATA_DIR: dataDir, ...s3.env('from-config/site-a') });
  const s = artifactStoreFromConfig(cfg);
  assert.ok(s instanceof S3ArtifactStore);
  assert.equal(s.location, `s3://${s3.bucket}/from-config/site-a`);
  assert.equal(s.root, join(dataDir, 'artifacts'));
  await s.put('k/v.txt', new TextEncoder().encode('x'));
  // The object sits under the bucket's prefix.
  assert.deepEqual(await (await storeAt('from-config')).list('site-a'), ['site-a/k/v.txt']);
  assert.equal(artifactStoreFromConfig(loadConfig({ DFA_DATA_DIR: dataDir })).location, join(dataDir, 'artifacts'));
});

test('S3: a stored object whose bytes changed is ARTIFACT_CHECKSUM_MISMATCH on get and in dir(), never silent data', async () => {
  const s = await storeAt('corrupt');
  await s.put('jobs/x/rt.dcm', new TextEncoder().encode('the real RTSTRUCT'));
  // s3rver keeps each object as a file: change its bytes behind the server's back (bit rot, a bad copy).
  const objFile = join(s3.dir, s3.bucket, 'corrupt', 'jobs', 'x', 'rt.dcm._S3rver_object');
  await writeFile(objFile, 'the fake RTSTRUCT');
  await assert.rejects(s.get('jobs/x/rt.dcm'), (e) => isDfaError(e, 'ARTIFACT_CHECKSUM_MISMATCH') && /checksum/.test(e.message));
  const other = await storeAt('corrupt');
  await assert.rejects(other.dir('jobs/x'), (e) => isDfaError(e, 'ARTIFACT_CHECKSUM_MISMATCH'));
  assert.deepEqual((await readdir(join(other.root, 'jobs', 'x'))).filter((f) => f !== '.'), [], 'nothing unverified lands in the local copy');
});

test('S3: ListObjectsV2 pages (continuation tokens) are all read; remove deletes across pages', async () => {
  const s = await storeAt('paged', { pageSize: 2 });
  const keys = Array.from({ length: 7 }, (_, i) => `p/f${i}`);
  for (const k of keys) await s.put(k, new Uint8Array([1]));
  assert.deepEqual(await s.list('p'), keys);
  const d = await (await storeAt('paged', { pageSize: 2 })).dir('p');
  assert.equal((await readdir(d)).length, 7);
  await s.remove('p');
  assert.deepEqual(await s.list(''), []);
});

test('S3: refused credentials are CONFIG_INVALID, an unreachable endpoint SERVICE_UNREACHABLE (transient); neither message holds the secret', async () => {
  const log = memoryLogger('debug');
  const bad = new S3ArtifactStore({
    client: new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'NOSUCHKEYID', secretAccessKey: 'TopSecretValue42' } }),
    bucket: s3.bucket,
    prefix: 'x',
    cacheDir: await cache(),
  });
  await assert.rejects(bad.get('a'), (e) => {
    log.error('artifact store failed', { error: isDfaError(e) ? e.message : String(e) });
    return isDfaError(e, 'CONFIG_INVALID') && /credentials/.test(e.message) && !e.message.includes('TopSecretValue42');
  });
  const down = new S3ArtifactStore({
    client: new S3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'TopSecretValue42' } }),
    bucket: s3.bucket,
    prefix: 'x',
    cacheDir: await cache(),
  });
  await assert.rejects(down.list(''), (e) => isDfaError(e, 'SERVICE_UNREACHABLE') && !e.message.includes('TopSecretValue42'));
  assert.ok(log.lines.every((l) => !l.includes('TopSecretValue42')));
});
