/**
 * Runs @20minutes/s3rver in its own process (see s3-server.ts): `node --openssl-legacy-provider
 * s3-server-child.ts <dir> <bucket>`. s3rver encrypts its ListObjectsV2 continuation tokens with DES,
 * which OpenSSL 3 only has in its legacy provider. Prints {"port": N} once listening on loopback,
 * then one line {"event": "ObjectCreated:Put" | "ObjectRemoved:Delete" | …, "key": "…"} for every
 * object written or deleted (s3rver's S3 event notifications), so a test can count the writes.
 */
import { createRequire } from 'node:module';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  on(name: 'event', fn: (e: S3EventNotification) => void): void;
}
interface S3EventNotification {
  readonly Records: readonly { readonly eventName: string; readonly s3: { readonly object: { readonly key: string } } }[];
}
type S3rverCtor = new (o: Record<string, unknown>) => S3rverInstance;

const [dir, bucket] = process.argv.slice(2);
if (!dir || !bucket) throw new Error('usage: s3-server-child.ts <dir> <bucket>');
// CommonJS package: loaded through require from this ES module.
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverCtor;
const server = new S3rver({
  address: '127.0.0.1', // loopback only
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: [{ name: bucket }],
  vhostBuckets: false,
  allowMismatchedSignatures: true,
});
server.on('event', (e) => {
  for (const r of e.Records) process.stdout.write(`${JSON.stringify({ event: r.eventName, key: r.s3.object.key })}\n`);
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
