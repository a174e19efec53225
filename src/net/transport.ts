/**
 * The HTTP transport under the DICOMweb client and the service client (src/remote/service-client.ts):
 * a tiny fetch-like interface with two implementations.
 *
 * - `nodeHttpTransport` (default) uses node:http/https. Why not the global fetch: Node 24.21's
 *   bundled undici crashes the whole process with an uncatchable `assert(!this.paused)` when a
 *   server closes the connection while the response body is paused under backpressure
 *   (nodejs/undici#5360, fixed upstream in undici PR #5474). Orthanc answers WADO-RS with
 *   `Connection: close` and an EOF-delimited body, and a consumer writing 150 MB to disk applies
 *   backpressure, so that crash happened in our own tests. node:http streams Buffers with less
 *   overhead too.
 *   A plain http: GET whose consumer copes with transient chunks (WADO-RS) goes over raw-http.ts
 *   instead: one reused read buffer rather than a fresh 64 KiB Buffer per read.
 * - `fetchTransport(fetch)` wraps any fetch (the `fetch` constructor option: proxies, tests).
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rawHttpGet } from './raw-http.ts';

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly headers: Readonly<Record<string, string>>;
  /** A Blob streams out; bytes go out in one write (a 157 MB volume: no copy into a Blob first). */
  readonly body?: Blob | Uint8Array;
  readonly signal: AbortSignal;
  /** Called as the request body goes out (keeps an idle timeout from firing during a long upload). */
  readonly onUpload?: () => void;
  /**
   * The consumer copies whatever it keeps of a chunk before its onChunk returns, so the transport
   * may hand out views of a reused read buffer (raw-http.ts).
   */
  readonly transientChunks?: boolean;
}

export interface TransportResponse {
  readonly status: number;
  readonly statusText: string;
  header(name: string): string | undefined;
  /**
   * Hands each body chunk to `onChunk` as it arrives; a returned promise pauses the body until it
   * settles (backpressure). Resolves at the end of the body. Consume once.
   */
  consume(onChunk: (chunk: Uint8Array) => Promise<void> | undefined): Promise<void>;
  text(): Promise<string>;
  /** Discard the body (releases the connection). */
  cancel(): Promise<void>;
}

export type Transport = (url: string, req: TransportRequest) => Promise<TransportResponse>;

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

export const nodeHttpTransport: Transport = (url, req) => {
  const u = new URL(url);
  if (req.transientChunks && req.method === 'GET' && !req.body && u.protocol === 'http:') return rawHttpGet(u, req);
  return new Promise<TransportResponse>((resolve, reject) => {
    const isHttps = u.protocol === 'https:';
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['Content-Length'] = String(req.body instanceof Uint8Array ? req.body.byteLength : req.body.size);
    const r = (isHttps ? httpsRequest : httpRequest)(u, { method: req.method, headers, agent: isHttps ? httpsAgent : httpAgent, signal: req.signal }, (res) => {
      resolve(nodeResponse(res));
    });
    r.setNoDelay(true);
    r.on('error', reject);
    if (req.body instanceof Uint8Array) {
      req.onUpload?.();
      r.end(req.body);
    } else if (req.body) {
      const body = Readable.fromWeb(req.body.stream() as import('node:stream/web').ReadableStream);
      if (req.onUpload) body.on('data', req.onUpload);
      pipeline(body, r).catch((e: unknown) => {
        r.destroy(e instanceof Error ? e : new Error(String(e)));
      });
    } else {
      r.end();
    }
  });
};

function nodeResponse(res: IncomingMessage): TransportResponse {
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    // 'data' events, not `for await`: one promise per 64 KiB chunk is measurable at 150 MB.
    consume: (onChunk) =>
      new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (e: unknown) => {
          if (failed) return;
          failed = true;
          res.destroy();
          reject(e instanceof Error ? e : new Error(String(e)));
        };
        res.on('data', (c: Buffer) => {
          if (failed) return;
          let p: Promise<void> | undefined;
          try {
            p = onChunk(c);
          } catch (e) {
            fail(e);
            return;
          }
          if (p) {
            res.pause();
            p.then(() => {
              if (!failed) res.resume();
            }, fail);
          }
        });
        res.on('end', () => {
          if (!failed) resolve();
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('connection closed before the response ended'));
        });
      }),
    text: async () => {
      const parts: Buffer[] = [];
      for await (const c of res as AsyncIterable<Buffer>) parts.push(c);
      return Buffer.concat(parts).toString('utf8');
    },
    cancel: async () => {
      res.resume();
      res.destroy();
    },
  };
}

export function fetchTransport(f: typeof fetch): Transport {
  return async (url, req) => {
    const body = req.body instanceof Uint8Array ? (req.body as Uint8Array<ArrayBuffer>) : req.body;
    const res = await f(url, { method: req.method, headers: req.headers, body, signal: req.signal });
    return {
      status: res.status,
      statusText: res.statusText,
      header: (name) => res.headers.get(name) ?? undefined,
      consume: async (onChunk) => {
        const reader = res.body?.getReader();
        if (!reader) return;
        for (let r = await reader.read(); !r.done; r = await reader.read()) await onChunk(r.value);
      },
      text: () => res.text(),
      cancel: async () => {
        await res.body?.cancel();
      },
    };
  };
}
