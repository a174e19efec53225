/**
 * Writes each part of a WADO-RS multipart body to its own Part 10 file as its bytes stream by
 * (a PartSink for MultipartParser): the part's bytes go to an open temp file with a synchronous
 * write per network read, so nothing is retained after the read returns — the transport may reuse
 * its read buffer — and no part ever sits in memory whole.
 *
 * Why synchronous writes: the alternative, keeping each part as a list of chunks until an async
 * write on the thread pool finishes, is what kept 64 KiB read buffers alive for the garbage
 * collector; a write of ≤ 1 MiB to the page cache takes tens of µs. Files appear atomically:
 * `.part-<pid>-<n>` then rename to `<SOPInstanceUID>.dcm` (the UID read from the part's first
 * 64 KiB); `abort()` removes the temp file of a part cut short.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { RetrievedInstance } from '../../core/ports.ts';
import { isValidUid } from '../../core/uid.ts';
import type { PartSink } from './multipart.ts';
import { part10Ids, type Part10Ids } from './part10-ids.ts';

/** Enough for the UIDs of any ordinary header; part10Ids re-reads the whole file otherwise. */
const HEAD_BYTES = 64 * 1024;

export class PartFiles implements PartSink {
  readonly instances: RetrievedInstance[] = [];
  bytes = 0;
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private headLength = 0;
  private size = 0;
  private fd = -1;
  private tmp = '';
  private seq = 0;
  private readonly destDir: string;

  constructor(destDir: string) {
    this.destDir = destDir;
  }

  start(): void {
    this.tmp = join(this.destDir, `.part-${process.pid}-${++this.seq}`);
    this.fd = fs.openSync(this.tmp, 'w');
    this.headLength = 0;
    this.size = 0;
  }

  data(bytes: Buffer): void {
    if (this.headLength < HEAD_BYTES) this.headLength += bytes.copy(this.head, this.headLength, 0, Math.min(bytes.length, HEAD_BYTES - this.headLength));
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    this.size += bytes.length;
    this.bytes += bytes.length;
  }

  end(): void {
    fs.closeSync(this.fd);
    this.fd = -1;
    const ids = this.ids();
    // The UID names a file: refuse anything that is not a UID (no path tricks from the server).
    const name = isValidUid(ids.sopInstanceUid) ? ids.sopInstanceUid : `instance-${this.instances.length + 1}`;
    const path = join(this.destDir, `${name}.dcm`);
    fs.renameSync(this.tmp, path);
    this.tmp = '';
    this.instances.push({ path, studyInstanceUid: ids.studyInstanceUid, seriesInstanceUid: ids.seriesInstanceUid, sopInstanceUid: ids.sopInstanceUid, sopClassUid: ids.sopClassUid });
  }

  /** After a failure: closes and deletes the file of the part in progress (finished ones stay). */
  abort(): void {
    if (this.fd !== -1) fs.closeSync(this.fd);
    this.fd = -1;
    if (this.tmp) fs.rmSync(this.tmp, { force: true });
    this.tmp = '';
  }

  private ids(): Part10Ids {
    const head = this.head.subarray(0, this.headLength);
    if (this.size <= HEAD_BYTES) return part10Ids(head);
    try {
      return part10Ids(head);
    } catch {
      return part10Ids(fs.readFileSync(this.tmp)); // header longer than 64 KiB: read it all back
    }
  }
}
