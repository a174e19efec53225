/**
 * The head of a Part 10 file without reading the rest: its File Meta Information (PS3.10 7.1) and
 * the first bytes of its data set, enough to route or announce it. Sending or forwarding a large
 * study then holds one instance in memory at a time, not the study.
 */
import { open, readFile } from 'node:fs/promises';
import { splitPart10, type Part10 } from './dataset.ts';

/** Bytes read from the start of a file: meta information plus the study-level header of the data set. */
export const HEAD_BYTES = 64 * 1024;

export interface Part10Head extends Part10 {
  /** True when `dataset` holds the whole data set (the file fitted in the head). */
  readonly complete: boolean;
}

export async function readPart10Head(path: string, bytes = HEAD_BYTES): Promise<Part10Head> {
  const fh = await open(path, 'r');
  let buf: Buffer;
  let size: number;
  try {
    size = (await fh.stat()).size;
    buf = Buffer.alloc(Math.min(bytes, size));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    buf = buf.subarray(0, got);
  } finally {
    await fh.close();
  }
  return { ...splitPart10(buf, path), complete: buf.length >= size };
}

/** The whole data set of a Part 10 file (read when it is sent). */
export async function readPart10(path: string): Promise<Part10> {
  return splitPart10(await readFile(path), path);
}
