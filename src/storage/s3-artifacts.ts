import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { eachLimit } from '../core/each-limit.ts';
import { filesBelow } from '../io/files-below.ts';
import { DfaError } from '../core/errors.ts';
import type { ArtifactStore } from '../core/ports.ts';
import { checkArtifactPrefix } from '../core/artifact-key.ts';
import { checkArtifactKey, writeAtomically } from './artifact-keys.ts';
import { s3Fault } from './s3-errors.ts';

/** User metadata with the object's SHA-256 (hex): checked on every read, whatever the server checks. */
const SHA_META = 'dfa-sha256';

export interface S3ArtifactStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix inside the bucket ('' = the bucket's root), no leading or trailing '/'. */
  readonly prefix: string;
  /** The local working copy (DFA_DATA_DIR/artifacts). */
  readonly cacheDir: string;
  /** ListObjectsV2 MaxKeys (S3's own default and maximum is 1000); tests shrink it to cross pages. */
  readonly pageSize?: number;
  /** Transfers at once in dir() / commit() / remove(). */
  readonly parallel?: number;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();

/**
 * Artifacts in S3-compatible object storage (AWS S3, MinIO, Ceph…), the source of truth, with a
 * local working copy under `cacheDir` for the steps that read files by path (DICOM loading, the
 * PACS store). Readers see whole objects or none: a PutObject becomes visible only when complete
 * (S3 has no partial objects), and the local copy is written to a temporary name and renamed.
 *
 * Integrity: every PUT carries Content-MD5 and x-amz-checksum-sha256 (S3 and MinIO refuse a body
 * that does not match: BadDigest / XAmzContentChecksumMismatch) and the SHA-256 as user metadata;
 * every GET checks the bytes against that metadata (or, without it, a single-part ETag, which S3
 * defines as the body's MD5), and a mismatch is the typed error ARTIFACT_CHECKSUM_MISMATCH.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly o: S3ArtifactStoreOptions;

  constructor(o: S3ArtifactStoreOptions) {
    this.o = o;
    this.root = o.cacheDir;
  }

  /** Where the store points, for logs: never credentials. */
  get location(): string {
    return `s3://${this.o.bucket}${this.o.prefix ? `/${this.o.prefix}` : ''}`;
  }

  private objectKey(key: string): string {
    checkArtifactKey(key);
    return this.o.prefix ? `${this.o.prefix}/${key}` : key;
  }

  private localPath(key: string): string {
    return key === '' ? this.root : join(this.root, ...checkArtifactKey(key).split('/'));
  }

  async dir(prefix: string): Promise<string> {
    const d = this.localPath(prefix);
    await mkdir(d, { recursive: true });
    const remote = await this.listObjects(prefix);
    await this.each(remote, async ({ key, size, etag }) => {
      const p = this.localPath(key);
      const have = await readFile(p).catch(() => undefined);
      if (have && have.byteLength === size && (!etag || etagMatches(etag, have))) return;
      await writeAtomically(p, await this.get(key));
    });
    return d;
  }

  async commit(prefix: string): Promise<void> {
    const base = this.localPath(prefix);
    const remote = new Map((await this.listObjects(prefix)).map((r) => [r.key, r]));
    const files = await localFiles(base);
    await this.each(files, async (p) => {
      const key = relative(this.root, p).split(sep).join('/');
      const data = await readFile(p);
      const r = remote.get(key);
      if (r && r.size === data.byteLength && r.etag && etagMatches(r.etag, data)) return; // already published
      await this.upload(key, data);
    });
  }

  async put(key: string, data: Uint8Array): Promise<string> {
    await this.upload(key, data);
    const p = this.localPath(key);
    await writeAtomically(p, data);
    return p;
  }

  private async upload(key: string, data: Uint8Array): Promise<void> {
    const digest = sha256(data);
    try {
      await this.o.client.send(
        new PutObjectCommand({
          Bucket: this.o.bucket,
          Key: this.objectKey(key),
          Body: data,
          ContentLength: data.byteLength,
          ContentMD5: md5(data).toString('base64'), // RFC 1864; S3 answers BadDigest on mismatch
          ChecksumSHA256: digest.toString('base64'),
          Metadata: { [SHA_META]: digest.toString('hex') },
        }),
      );
    } catch (e) {
      throw s3Fault(e, `put ${key}`, this.location);
    }
  }

  /**
   * A mismatch is read again before it is reported: on stores that do not replace body and metadata
   * in one step (S3 itself does; some S3-compatible servers do not), a read that races an overwrite
   * can see the new bytes with the old checksum. A mismatch that persists is corruption. A body cut
   * off mid-read (ECONNRESET after the headers: the SDK does not retry a stream it already handed over)
   * is read again the same way.
   */
  async get(key: string): Promise<Uint8Array> {
    for (const pauseMs of [25, 100, 400]) {
      try {
        return await this.getOnce(key);
      } catch (e) {
        if (!(e instanceof DfaError && (e.code === 'ARTIFACT_CHECKSUM_MISMATCH' || e.code === 'SERVICE_UNREACHABLE'))) throw e;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
    return this.getOnce(key);
  }

  private async getOnce(key: string): Promise<Uint8Array> {
    let body: Uint8Array;
    let meta: Record<string, string> | undefined;
    let etag: string | undefined;
    try {
      const r = await this.o.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(key), ChecksumMode: 'ENABLED' }));
      if (!r.Body) throw new DfaError('ARTIFACT_NOT_FOUND', `no artifact '${key}'`);
      body = await r.Body.transformToByteArray();
      meta = r.Metadata;
      etag = r.ETag;
    } catch (e) {
      throw s3Fault(e, `get ${key}`, this.location);
    }
    const want = meta?.[SHA_META];
    const ok = want ? sha256(body).toString('hex') === want.toLowerCase() : etag ? etagMatches(etag, body) : true;
    if (!ok) {
      throw new DfaError('ARTIFACT_CHECKSUM_MISMATCH', `artifact '${key}' in ${this.location}: its bytes do not match the checksum stored with it`, {
        details: { key, bytes: body.byteLength },
      });
    }
    return body;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.o.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (e) {
      const f = s3Fault(e, `head ${key}`, this.location);
      if (f.code === 'ARTIFACT_NOT_FOUND') return false;
      throw f;
    }
  }

  /** Keys of all objects below a prefix, sorted. */
  async list(prefix: string): Promise<string[]> {
    return (await this.listObjects(prefix)).map((r) => r.key).sort();
  }

  async remove(prefix: string): Promise<void> {
    const keys = (await this.listObjects(prefix)).map((r) => r.key);
    if (prefix !== '' && (await this.exists(prefix))) keys.push(prefix); // a single artifact, as rm would
    // DeleteObjects takes at most 1000 keys per request (S3 API reference, DeleteObjects).
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const r = await this.o.client.send(
          new DeleteObjectsCommand({ Bucket: this.o.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.objectKey(k) })), Quiet: true } }),
        );
        if (r.Errors && r.Errors.length > 0) {
          throw new DfaError('SERVICE_UNREACHABLE', `${this.location}: could not delete ${r.Errors.length} object(s): ${r.Errors[0]?.Code ?? ''} ${r.Errors[0]?.Message ?? ''}`);
        }
      } catch (e) {
        throw s3Fault(e, `delete under ${prefix}`, this.location);
      }
    }
    await rm(this.localPath(prefix), { recursive: true, force: true });
  }

  /** Drops the local working copy under a prefix (never everything); the objects stay. */
  async release(prefix: string): Promise<void> {
    await rm(this.localPath(checkArtifactPrefix(prefix, false)), { recursive: true, force: true });
  }

  /** ListObjectsV2, every page (continuation tokens), keys relative to the store. */
  private async listObjects(prefix: string): Promise<{ key: string; size: number; etag?: string }[]> {
    const base = prefix === '' ? (this.o.prefix ? `${this.o.prefix}/` : '') : `${this.objectKey(prefix)}/`;
    const strip = this.o.prefix ? this.o.prefix.length + 1 : 0;
    const out: { key: string; size: number; etag?: string }[] = [];
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.o.client.send(
          new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: base, ContinuationToken: token, MaxKeys: this.o.pageSize ?? 1000 }),
        );
      } catch (e) {
        throw s3Fault(e, `list ${prefix}`, this.location);
      }
      for (const c of r.Contents ?? []) {
        if (c.Key === undefined || c.Key.endsWith('/')) continue; // a "folder" marker some tools create
        out.push({ key: c.Key.slice(strip), size: c.Size ?? 0, ...(c.ETag ? { etag: c.ETag } : {}) });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async each<T>(items: readonly T[], fn: (t: T) => Promise<void>): Promise<void> {
    await eachLimit(items, this.o.parallel ?? 8, fn);
  }
}

/** A single-part ETag is the quoted MD5 of the body (S3: "Common Response Headers"); a multipart one has '-N'. */
function etagMatches(etag: string, data: Uint8Array): boolean {
  const e = etag.replace(/"/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(e)) return true; // multipart or server-specific: not an MD5, not comparable
  return md5(data).toString('hex') === e;
}

/** Absolute paths of the files in the working copy below `dir`. */
async function localFiles(dir: string): Promise<string[]> {
  return (await filesBelow(dir)).map((rel) => join(dir, ...rel.split('/')));
}
