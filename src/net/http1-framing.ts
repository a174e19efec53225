/**
 * HTTP/1.1 response framing (RFC 9112) for raw-http.ts: the response head (status line and header
 * fields) and where the body ends — Content-Length, chunked transfer coding, or connection close.
 * Body framers take bytes as they arrive and never keep a reference to them (the caller reuses its
 * read buffer): body bytes come back as views of the input, to be used before the next read.
 */
import { DfaError } from '../core/errors.ts';

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Field names lower case; repeated fields joined with ", " (RFC 9110 5.3). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The body of one response: push bytes in, body pieces out (views of the input). */
export interface BodyFramer {
  /** Appends the body bytes found in `bytes` to `out`; returns true once the body is complete. */
  push(bytes: Buffer, out: Buffer[]): boolean;
  /** The connection ended: throws when that cuts the body short. */
  eof(): void;
}

function framingError(message: string): DfaError {
  return new DfaError('DICOMWEB_HTTP_ERROR', `HTTP response: ${message}`);
}

/** Parses a response head without its final CRLF CRLF. */
export function parseHead(text: string): ResponseHead {
  // RFC 9112 5.2: obsolete line folding in a response is replaced by SP before interpreting.
  const lines = text.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const m = /^HTTP\/1\.[0-9] ([0-9]{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw framingError(`not an HTTP/1.x status line: '${lines[0].slice(0, 80)}'`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    // RFC 9112 5.1: no whitespace between the field name and the colon.
    if (c <= 0 || /[ \t]/.test(line[c - 1])) throw framingError(`malformed header field '${line.slice(0, 80)}'`);
    const name = line.slice(0, c).toLowerCase();
    const value = line.slice(c + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(m[1]), statusText: m[2] ?? '', headers };
}

/** RFC 9112 6.3: which framer delimits the body of a response to a GET. */
export function framerFor(head: ResponseHead): BodyFramer {
  // 6.3 rule 1: 1xx, 204 and 304 responses end with their header section.
  if (head.status < 200 || head.status === 204 || head.status === 304) return new LengthFramer(0);
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    // 6.3 rule 4: chunked as the final coding frames the body; other codings: read until close.
    const codings = te.split(',').map((s) => s.trim().toLowerCase());
    return codings[codings.length - 1] === 'chunked' ? new ChunkedDecoder() : new CloseFramer();
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    // 6.3 rule 5: identical repeated values are one value; anything else is unrecoverable.
    const values = new Set(cl.split(',').map((s) => s.trim()));
    const [v] = values;
    if (values.size !== 1 || !/^[0-9]{1,15}$/.test(v)) throw framingError(`invalid Content-Length '${cl.slice(0, 40)}'`);
    return new LengthFramer(Number(v));
  }
  return new CloseFramer(); // 6.3 rule 8: the body ends when the server closes the connection
}

class LengthFramer implements BodyFramer {
  private left: number;
  private readonly length: number;
  constructor(length: number) {
    this.left = length;
    this.length = length;
  }
  push(bytes: Buffer, out: Buffer[]): boolean {
    const n = Math.min(this.left, bytes.length);
    if (n > 0) out.push(n === bytes.length ? bytes : bytes.subarray(0, n));
    this.left -= n;
    return this.left === 0; // bytes after the body (a keep-alive connection) are not ours
  }
  eof(): void {
    // RFC 9112 8: fewer bytes than Content-Length means the message is incomplete.
    if (this.left > 0) throw framingError(`body truncated: connection closed after ${this.length - this.left} of ${this.length} bytes`);
  }
}

class CloseFramer implements BodyFramer {
  push(bytes: Buffer, out: Buffer[]): boolean {
    if (bytes.length > 0) out.push(bytes);
    return false;
  }
  eof(): void {
    /* the close is the end of the body */
  }
}

type ChunkState = 'size' | 'data' | 'dataEnd' | 'trailer' | 'done';
const MAX_LINE = 8 * 1024;

/** RFC 9112 7.1: chunked transfer coding, decoded byte-exactly across any split of the input. */
export class ChunkedDecoder implements BodyFramer {
  private state: ChunkState = 'size';
  /** Bytes of the current size or trailer line (without CRLF), copied: lines are short. */
  private line = '';
  private left = 0;

  push(bytes: Buffer, out: Buffer[]): boolean {
    let pos = 0;
    while (pos < bytes.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, bytes.length - pos);
        out.push(bytes.subarray(pos, pos + n));
        pos += n;
        this.left -= n;
        if (this.left === 0) this.state = 'dataEnd';
        continue;
      }
      // Line-oriented states: chunk-size line, the CRLF after chunk data, trailer lines.
      const lf = bytes.indexOf(0x0a, pos);
      const end = lf === -1 ? bytes.length : lf;
      this.line += bytes.toString('latin1', pos, end);
      if (this.line.length > MAX_LINE) throw framingError('chunked: line too long');
      pos = lf === -1 ? bytes.length : lf + 1;
      if (lf !== -1) this.endLine();
    }
    return this.state === 'done';
  }

  private endLine(): void {
    if (!this.line.endsWith('\r')) throw framingError('chunked: line not ended by CRLF');
    const line = this.line.slice(0, -1);
    this.line = '';
    switch (this.state) {
      case 'size': {
        // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; extensions are ignored (7.1.1).
        const m = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (!m) throw framingError(`chunked: invalid chunk size line '${line.slice(0, 40)}'`);
        this.left = parseInt(m[1], 16);
        this.state = this.left === 0 ? 'trailer' : 'data'; // last-chunk, then the trailer section
        return;
      }
      case 'dataEnd':
        if (line !== '') throw framingError('chunked: chunk data longer than its size');
        this.state = 'size';
        return;
      case 'trailer':
        if (line === '') this.state = 'done'; // trailer fields (7.1.2) are read and dropped
        return;
      default:
        return;
    }
  }

  eof(): void {
    if (this.state !== 'done') throw framingError('body truncated: connection closed before the last chunk');
  }
}
