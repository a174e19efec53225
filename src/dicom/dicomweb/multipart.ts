/**
 * Streaming parser for multipart/related bodies (RFC 2046 5.1, RFC 2387), as WADO-RS returns them
 * (PS3.18 8.6.1.2: one part per instance, type="application/dicom").
 *
 * Why hand-written: a 512×512×300 study is ~150 MB; buffering it and splitting with string
 * operations doubles memory and is slow. This parser works on Buffers with the native
 * `Buffer.indexOf`, keeps only the bytes of the part in progress, copes with a delimiter split
 * across network chunks, and hands each part back as soon as its closing delimiter arrives, so the
 * caller can write it to disk while the rest of the body is still on the wire.
 *
 * Usage: `const p = new MultipartParser(boundary); for (chunk) for (part of p.push(chunk)) …; p.end()`.
 * Streaming: `new MultipartParser(boundary, sink)` hands each part's bytes to the sink as they are
 * parsed and retains none of the caller's chunks, so the caller may reuse its read buffer.
 */
import { DfaError } from '../../core/errors.ts';

export interface MultipartPart {
  /** Header names in lower case (RFC 2045: case-insensitive). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as the chunks it arrived in (no copy); `Buffer.concat` if one buffer is needed. */
  readonly chunks: readonly Buffer[];
  readonly size: number;
}

/** Receives parts as they stream by; `data` views are valid only during the call (copy to keep). */
export interface PartSink {
  start(headers: Readonly<Record<string, string>>): void;
  data(bytes: Buffer): void;
  end(): void;
}

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const MAX_HEADER_BYTES = 64 * 1024;

export class MultipartParser {
  /** "\r\n--boundary": every delimiter, the first included once we pretend the body starts with CRLF. */
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** Unconsumed bytes: always shorter than what the current state needs to decide. */
  private pending: Buffer = CRLF; // RFC 2046: the first delimiter may start the body without a CRLF
  private headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private partsSeen = 0;
  private readonly sink: PartSink | undefined;

  constructor(boundary: string, sink?: PartSink) {
    this.sink = sink;
    if (!boundary || boundary.length > 70) {
      // RFC 2046 5.1.1: 1 to 70 characters
      throw new DfaError('DICOMWEB_HTTP_ERROR', `invalid multipart boundary '${boundary}'`);
    }
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /**
   * Feed the next chunk; returns the parts completed by it (often none, sometimes several). With a
   * sink, parts go to the sink instead and the returned list is always empty.
   */
  push(chunk: Uint8Array): MultipartPart[] {
    const done: MultipartPart[] = [];
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.state === 'body' && this.pending.length > 0 && buf.length >= this.delimiter.length) {
      // Body bytes held back from the last chunk (a possible delimiter start): settle them by
      // looking at them plus the first bytes of this chunk, instead of copying the whole chunk.
      const joint = Buffer.concat([this.pending, buf.subarray(0, this.delimiter.length - 1)]);
      const i = joint.indexOf(this.delimiter);
      if (i === -1) {
        this.take(this.pending);
        this.pending = EMPTY;
      } else if (i >= this.pending.length) {
        this.take(this.pending); // the delimiter starts in this chunk: found by the normal search
        this.pending = EMPTY;
      } else {
        if (i > 0) this.take(this.pending.subarray(0, i));
        buf = buf.subarray(this.delimiter.length - (this.pending.length - i));
        this.endPart(done);
        this.pending = EMPTY;
      }
    }
    const data = this.pending.length === 0 ? buf : Buffer.concat([this.pending, buf]);
    let pos = 0;
    for (let next = this.step(data, 0, done); next !== -1; next = this.step(data, pos, done)) pos = next;
    // Copy the small unconsumed tail so the big chunk it came from can be freed.
    this.pending = pos >= data.length ? EMPTY : Buffer.from(data.subarray(pos));
    return done;
  }

  /** Call after the last chunk: throws if the body ended before its closing delimiter. */
  end(): void {
    if (this.state !== 'epilogue') {
      throw new DfaError('DICOMWEB_HTTP_ERROR', `multipart body truncated (in ${this.state} after ${this.partsSeen} complete parts)`, {
        details: { partsComplete: this.partsSeen },
      });
    }
  }

  get partsComplete(): number {
    return this.partsSeen;
  }

  /** Advance one state transition; returns the new position, or -1 when more data is needed. */
  private step(data: Buffer, pos: number, done: MultipartPart[]): number {
    switch (this.state) {
      case 'preamble': {
        const i = data.indexOf(this.delimiter, pos);
        if (i === -1) {
          // Preamble is ignored (RFC 2046); keep only what could be the start of a delimiter.
          const keep = Math.max(pos, data.length - this.delimiter.length + 1);
          return keep > pos ? keep : -1;
        }
        this.state = 'afterDelimiter';
        return i + this.delimiter.length;
      }
      case 'afterDelimiter': {
        // After a delimiter: "--" closes the body; otherwise transport padding (LWSP) then CRLF.
        if (data.length - pos < 2) return -1;
        if (data[pos] === 0x2d && data[pos + 1] === 0x2d) {
          this.state = 'epilogue';
          return data.length;
        }
        const eol = data.indexOf(CRLF, pos);
        if (eol === -1) {
          if (data.length - pos > 1024) throw new DfaError('DICOMWEB_HTTP_ERROR', 'multipart: garbage after boundary delimiter');
          return -1;
        }
        for (let k = pos; k < eol; k++) {
          if (data[k] !== 0x20 && data[k] !== 0x09) throw new DfaError('DICOMWEB_HTTP_ERROR', 'multipart: garbage after boundary delimiter');
        }
        this.state = 'headers';
        this.headers = {};
        return eol + 2;
      }
      case 'headers': {
        // A part with no headers starts its body right away (the CRLF ends the empty header block).
        if (data.length - pos >= 2 && data[pos] === 0x0d && data[pos + 1] === 0x0a) {
          this.startBody();
          return pos + 2;
        }
        const i = data.indexOf(HEADER_END, pos);
        if (i === -1) {
          if (data.length - pos > MAX_HEADER_BYTES) throw new DfaError('DICOMWEB_HTTP_ERROR', 'multipart: part headers too long');
          return -1;
        }
        this.headers = parseHeaderBlock(data.toString('latin1', pos, i));
        this.startBody();
        return i + 4;
      }
      case 'body': {
        const i = data.indexOf(this.delimiter, pos);
        if (i === -1) {
          // Everything except a possible delimiter prefix at the end is body.
          const safe = Math.max(pos, data.length - this.delimiter.length + 1);
          if (safe === pos) return -1;
          this.take(data.subarray(pos, safe));
          return safe;
        }
        if (i > pos) this.take(data.subarray(pos, i));
        this.endPart(done);
        return i + this.delimiter.length;
      }
      case 'epilogue':
        return pos >= data.length ? -1 : data.length; // ignored (RFC 2046)
    }
  }

  private endPart(done: MultipartPart[]): void {
    if (this.sink) this.sink.end();
    else done.push({ headers: this.headers, chunks: this.chunks, size: this.size });
    this.partsSeen++;
    this.chunks = [];
    this.size = 0;
    this.state = 'afterDelimiter';
  }

  private startBody(): void {
    this.state = 'body';
    this.chunks = [];
    this.size = 0;
    this.sink?.start(this.headers);
  }

  private take(b: Buffer): void {
    this.size += b.length;
    if (this.sink) this.sink.data(b);
    else this.chunks.push(b);
  }
}

function parseHeaderBlock(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  // RFC 5322 2.2.3: a line starting with whitespace continues the previous header.
  const lines = text.split('\r\n');
  let last = '';
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      out[last] += ' ' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    last = line.slice(0, c).trim().toLowerCase();
    out[last] = line.slice(c + 1).trim();
  }
  return out;
}

/** Media type and parameters of a Content-Type value; parameter names lower-cased, quotes removed. */
export function parseContentType(value: string): { type: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  const rest = semi === -1 ? '' : value.slice(semi);
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { type, params };
}
