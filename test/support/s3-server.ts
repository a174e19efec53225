import { mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * A real S3-protocol server on loopback for tests: @20minutes/s3rver (the maintained fork of
 * s3rver, the Node S3 server; Debian 12 has none but Ceph's radosgw, and the compose file's MinIO
 * is not packaged in npm or Debian). Chosen because it speaks the wire protocol the AWS SDK v3
 * uses — SigV4 requests (an unknown access key ID is refused: InvalidAccessKeyId), ListObjectsV2
 * with MaxKeys and continuation tokens, DeleteObjects, multipart uploads, user metadata,
 * single-part ETag = MD5 of the body — and keeps objects as plain files, so a test can corrupt one.
 * s3rver 3.7.1 is the same code without the fork's security fixes.
 *
 * It runs in its own process (s3-server-child.ts, with OpenSSL's legacy provider for its DES
 * continuation tokens). Signature bytes are not compared (allowMismatchedSignatures): s3rver canonicalises a path-style
 * bucket URI as `/bucket` while SDK v3 signs `/bucket/`, so every ListObjectsV2 would be refused.
 *
 * What it does NOT check, so our client does (src/storage/s3-artifacts.ts): it ignores Content-MD5
 * and x-amz-checksum-* on PUT (S3 and MinIO refuse a mismatching body; s3rver stores it) and returns
 * no x-amz-checksum-* on GET; concurrent PUTs of one key can mix one's body with another's
 * metadata (S3 keeps each PUT whole). Our store keeps the SHA-256 in the object's user metadata and checks
 * every read against it. No versioning, conditional writes (If-None-Match) or object lock either.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where s3rver keeps the objects (one file per object under <dir>/<bucket>/…). */
  readonly dir: string;
  /**
   * Objects written and deleted so far, in order (s3rver's event notifications): `key` is the
   * object key in the bucket. A PUT of the same key twice shows twice.
   */
  events(): readonly S3ObjectEvent[];
  /** The DFA_* settings that point the agent at this server. */
  env(prefix: string): Record<string, string>;
  client(): S3Client;
  stop(): Promise<void>;
}

export interface S3ObjectEvent {
  readonly event: string; // 'ObjectCreated:Put' | 'ObjectCreated:Copy' | 'ObjectRemoved:Delete' | …
  readonly key: string;
}

export async function startTestS3(bucket = 'dfa-test'): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', fileURLToPath(new URL('./s3-server-child.ts', import.meta.url)), dir, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: S3ObjectEvent[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        const m = JSON.parse(line) as { port?: number } & Partial<S3ObjectEvent>;
        if (m.port !== undefined) resolve(m.port);
        else if (m.event && m.key !== undefined) events.push({ event: m.event, key: m.key });
      }
    });
    child.once('exit', (code) => reject(new Error(`the S3 test server exited (${code}) before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = 'S3RVER'; // s3rver's built-in account
  const secretAccessKey = 'S3RVER';
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    dir,
    events: () => [...events],
    env: (prefix) => ({
      DFA_STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      DFA_S3_ENDPOINT: endpoint,
      DFA_S3_REGION: 'us-east-1',
      DFA_S3_FORCE_PATH_STYLE: 'true',
      DFA_S3_ACCESS_KEY_ID: accessKeyId,
      DFA_S3_SECRET_ACCESS_KEY: secretAccessKey,
    }),
    client: () => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } }),
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
