/**
 * An HTTP/1.1 GET over a bare TCP socket, for the one request where speed matters: a WADO-RS
 * retrieval, a 150 MB multipart body written straight to disk.
 *
 * Why not node:http here: it allocates a fresh 64 KiB Buffer for every socket read, and a 150 MB
 * body makes that thousands of buffers for the garbage collector. This reads into one reused
 * 1 MiB buffer (as the DIMSE client does, dimse/connect.ts) and hands the consumer views of it,
 * valid only during its onChunk call (TransportRequest.transientChunks). Plain http: only; https:
 * and every other request keep node:http (transport.ts). One request per connection: we send
 * `Connection: close` and close the socket once the body is framed (http1-framing.ts).
 */
import { connect, type Socket } from 'node:net';
import { DfaError } from '../core/errors.ts';
import { framerFor, parseHead, type BodyFramer, type ResponseHead } from './http1-framing.ts';
import type { TransportRequest, TransportResponse } from './transport.ts';

// A/B on the 512x512x300 study (15 rounds): 256 KiB 1.19x curl, 512 KiB 1.14x, 1 MiB 1.02x.
const READ_BUFFER_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

type OnChunk = (chunk: Uint8Array) => Promise<void> | undefined;

export function rawHttpGet(url: URL, req: TransportRequest): Promise<TransportResponse> {
  return new Promise<TransportResponse>((resolve, reject) => {
    if (url.protocol !== 'http:') throw new Error(`raw-http: ${url.protocol} is not plain http:`);
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
    for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
    const head = lines.join('\r\n') + '\r\n\r\n';
    // RFC 9112 2.2: a bare CR or LF inside a field would smuggle a header or a request.
    if (/[\r\n]/.test(lines.join(''))) throw new Error('raw-http: CR or LF in a request header');
    if (req.signal.aborted) throw req.signal.reason as Error;
    const conn = new Connection(url, req.signal, resolve, reject);
    conn.socket.write(head, 'latin1'); // not end(): some servers drop a half-closed connection
  });
}

/** One connection = one response: parses the head, then frames the body and hands it over. */
class Connection implements TransportResponse {
  readonly socket: Socket;
  status = 0;
  statusText = '';
  private headers: Readonly<Record<string, string>> = {};
  private headBytes: Buffer | undefined;
  private framer: BodyFramer | undefined;
  private onChunk: OnChunk | undefined;
  /** Body pieces received before consume() or while the consumer was busy (copies). */
  private readonly queue: Buffer[] = [];
  private busy = false;
  private error: Error | undefined;
  private bodyComplete = false;
  private settled = false; // the consume() promise, or the request's when no response yet
  private resolveBody: (() => void) | undefined;
  private rejectBody: ((e: Error) => void) | undefined;
  private resolveHead: ((r: TransportResponse) => void) | undefined;
  private rejectHead: ((e: Error) => void) | undefined;
  private readonly onAbort: () => void;
  private readonly signal: AbortSignal;

  constructor(url: URL, signal: AbortSignal, resolve: (r: TransportResponse) => void, reject: (e: Error) => void) {
    this.resolveHead = resolve;
    this.rejectHead = reject;
    this.signal = signal;
    this.onAbort = () => this.fail((signal.reason as Error | undefined) ?? new Error('aborted'));
    signal.addEventListener('abort', this.onAbort, { once: true });
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.socket = connect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 80),
      noDelay: true,
      onread: { buffer, callback: (n: number) => this.read(buffer.subarray(0, n)) },
    });
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('end', () => this.eof());
    this.socket.on('close', () => {
      if (!this.bodyComplete) this.fail(new Error('connection closed before the response ended'));
    });
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  consume(onChunk: OnChunk): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.error) return reject(this.error);
      if (this.onChunk || this.settled) return reject(new Error('raw-http: body already consumed'));
      this.onChunk = onChunk;
      this.resolveBody = resolve;
      this.rejectBody = reject;
      this.drain();
    });
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    await this.consume((c) => {
      parts.push(Buffer.from(c)); // copy: the chunk is a view of the reused read buffer
      return undefined;
    });
    return Buffer.concat(parts).toString('utf8');
  }

  async cancel(): Promise<void> {
    this.finish();
  }

  /** onread callback: `bytes` is a view of the reused buffer. Returns false to pause reading. */
  private read(bytes: Buffer): boolean {
    try {
      if (!this.framer) {
        const rest = this.readHead(bytes);
        if (!rest) return true;
        bytes = rest;
      }
      const pieces: Buffer[] = [];
      if (this.framer!.push(bytes, pieces)) this.bodyComplete = true;
      for (const p of pieces) this.deliver(p, true);
      if (this.bodyComplete) this.drain();
      return !this.busy && !this.settled && this.onChunk !== undefined;
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }

  /** Accumulates the head; once complete, returns the body bytes that followed it (maybe none). */
  private readHead(bytes: Buffer): Buffer | undefined {
    const all = this.headBytes ? Buffer.concat([this.headBytes, bytes]) : bytes;
    const end = all.indexOf(HEAD_END);
    if (end === -1) {
      if (all.length > MAX_HEAD_BYTES) throw new DfaError('DICOMWEB_HTTP_ERROR', 'HTTP response: header section too long');
      this.headBytes = Buffer.from(all); // copy: `bytes` is the reused read buffer
      return undefined;
    }
    const head: ResponseHead = parseHead(all.toString('latin1', 0, end));
    this.headBytes = undefined;
    const rest = all.subarray(end + 4);
    // RFC 9110 15.2: interim 1xx responses come before the final one; skip them.
    if (head.status >= 100 && head.status < 200) return rest.length > 0 ? this.readHead(rest) : undefined;
    this.status = head.status;
    this.statusText = head.statusText;
    this.headers = head.headers;
    this.framer = framerFor(head);
    const resolve = this.resolveHead;
    this.resolveHead = this.rejectHead = undefined;
    resolve?.(this);
    return rest;
  }

  /** Hands a body piece to the consumer now, or queues a copy while there is none or it is busy. */
  private deliver(piece: Buffer, transient: boolean): void {
    if (this.settled) return; // failed (or cancelled) by an earlier piece: nobody wants the rest
    if (!this.onChunk || this.busy || this.queue.length > 0) this.queue.push(transient ? Buffer.from(piece) : piece);
    else this.call(this.onChunk, piece);
  }

  private call(onChunk: OnChunk, piece: Buffer): void {
    const p = onChunk(piece);
    if (!p) return;
    this.busy = true; // backpressure: read() pauses the socket until the promise settles
    p.then(
      () => {
        this.busy = false;
        this.drain();
      },
      (e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** Delivers queued pieces while the consumer takes them; then ends the body or reads on. */
  private drain(): void {
    if (this.settled || !this.onChunk) return;
    try {
      while (this.queue.length > 0 && !this.busy) this.call(this.onChunk, this.queue.shift()!);
    } catch (e) {
      return this.fail(e instanceof Error ? e : new Error(String(e)));
    }
    if (this.busy || this.queue.length > 0) return;
    if (this.bodyComplete) this.finish();
    else this.socket.resume(); // net.Socket restarts reads that onread paused (returned false)
  }

  private eof(): void {
    if (this.settled || this.bodyComplete) return;
    if (!this.framer) return this.fail(new Error('connection closed before a response'));
    try {
      this.framer.eof();
    } catch (e) {
      return this.fail(e as Error);
    }
    this.bodyComplete = true;
    this.drain();
  }

  /** The body is over (or abandoned): settle and close. */
  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.resolveBody?.();
  }

  private fail(e: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.error = e;
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.queue.length = 0;
    if (this.rejectHead) this.rejectHead(e);
    else this.rejectBody?.(e);
  }
}
