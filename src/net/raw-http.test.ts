/**
 * raw-http.ts against real TCP servers (node:net, so the test decides every byte and where the
 * writes pause): the request it sends, Content-Length / chunked / close-delimited bodies, a
 * keep-alive server that never closes, a head split across reads with an interim 100, truncated
 * bodies as typed errors, backpressure, and abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startScriptServer, type Script } from '../../test/support/script-server.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDfaError } from '../core/errors.ts';
import { rawHttpGet } from './raw-http.ts';
import type { TransportResponse } from './transport.ts';

/** A server that reads one request head and answers with `script`; returns its URL and the requests seen. */
async function serve(script: Script): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const server = await startScriptServer(script);
  return { url: `${server.origin}/dicom-web/studies/1.2.3?x=1`, requests: server.requests, close: () => server.close() };
}

const get = (url: string, headers: Record<string, string> = {}, signal = new AbortController().signal) => rawHttpGet(new URL(url), { method: 'GET', headers, signal, transientChunks: true });

/** Consumes the body, copying each (transient) chunk. */
async function body(res: TransportResponse): Promise<Buffer> {
  const parts: Buffer[] = [];
  await res.consume((c) => {
    parts.push(Buffer.from(c));
    return undefined;
  });
  return Buffer.concat(parts);
}

/** Writes `bytes` in pieces cut at `cuts`, pausing between writes so each piece is its own read. */
async function writeSplit(s: Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  let last = 0;
  for (const c of [...cuts, bytes.length]) {
    s.write(bytes.subarray(last, c));
    last = c;
    await sleep(15);
  }
}

const PAYLOAD = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) & 0xff));

test('sends one well-formed GET (path, query, Host, Connection: close, our headers); Content-Length body from a keep-alive server', async () => {
  const srv = await serve((s) => {
    // Keep-alive: the server leaves the connection open, so only Content-Length ends the body.
    s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${PAYLOAD.length}\r\nConnection: keep-alive\r\n\r\n`);
    s.write(PAYLOAD);
  });
  try {
    const res = await get(srv.url, { Accept: 'multipart/related; type="application/dicom"', Authorization: 'Bearer t0k' });
    assert.equal(res.status, 200);
    assert.equal(res.statusText, 'OK');
    assert.equal(res.header('Content-Type'), 'application/octet-stream');
    assert.deepEqual(await body(res), PAYLOAD);
    const [req] = srv.requests;
    assert.match(req, /^GET \/dicom-web\/studies\/1\.2\.3\?x=1 HTTP\/1\.1\r\n/);
    assert.match(req, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(req, /\r\nConnection: close\r\n/);
    assert.match(req, /\r\nAccept: multipart\/related; type="application\/dicom"\r\n/);
    assert.match(req, /\r\nAuthorization: Bearer t0k\r\n\r\n$/);
  } finally {
    await srv.close();
  }
});

test('chunked body across reads split at random offsets, and a close-delimited body', async () => {
  const chunks: Buffer[] = [];
  for (let off = 0, size = 1; off < PAYLOAD.length; off += size, size = size * 7 + 3) {
    const piece = PAYLOAD.subarray(off, off + size);
    chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  const chunked = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ...chunks, Buffer.from('0\r\n\r\n')]);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const cuts = Array.from({ length: 12 }, () => Math.floor(rand() * chunked.length)).sort((a, b) => a - b);
  const srv = await serve((s) => writeSplit(s, chunked, cuts)); // the connection stays open: chunked framing ends it
  const closing = await serve(async (s) => {
    await writeSplit(s, Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'), PAYLOAD]), [20, 5000, 1_000_000]);
    s.end();
  });
  try {
    assert.deepEqual(await body(await get(srv.url)), PAYLOAD);
    assert.deepEqual(await body(await get(closing.url)), PAYLOAD);
  } finally {
    await srv.close();
    await closing.close();
  }
});

test('a head split across reads, after an interim 100 Continue; text() of the body', async () => {
  const answer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nno study!');
  const srv = await serve(async (s) => {
    await writeSplit(s, answer, [5, 24, 26, 40, 60, 61, answer.length - 9, answer.length - 3]);
  });
  try {
    const res = await get(srv.url);
    assert.equal(res.status, 404);
    assert.equal(res.statusText, 'Not Found');
    assert.equal(await res.text(), 'no study!');
  } finally {
    await srv.close();
  }
});

test('truncated bodies are typed errors: Content-Length short, chunked cut off, no response at all', async () => {
  const short = await serve((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'));
  const cut = await serve((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc'));
  const silent = await serve((s) => s.end());
  const garbage = await serve((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  try {
    await assert.rejects(body(await get(short.url)), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /9 of 100 bytes/.test(e.message));
    await assert.rejects(body(await get(cut.url)), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /truncated/.test(e.message));
    await assert.rejects(get(silent.url), /closed before a response/);
    await assert.rejects(get(garbage.url), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /status line/.test(e.message));
  } finally {
    for (const s of [short, cut, silent, garbage]) await s.close();
  }
});

test('backpressure: a consumer returning promises gets every byte, in order', async () => {
  const srv = await serve((s) => {
    s.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), PAYLOAD]));
  });
  try {
    const res = await get(srv.url);
    await sleep(30); // the whole body may arrive before consume(): it must be kept, not lost
    const parts: Buffer[] = [];
    let n = 0;
    await res.consume((c) => {
      parts.push(Buffer.from(c));
      return n++ % 2 === 0 ? sleep(2) : undefined;
    });
    assert.deepEqual(Buffer.concat(parts), PAYLOAD);
  } finally {
    await srv.close();
  }
});

test('abort: before the head and during the body; a throwing consumer; cancel()', async () => {
  const stalls = await serve(() => undefined);
  const trickles = await serve((s) => {
    s.write('HTTP/1.1 200 OK\r\n\r\nsome');
  });
  try {
    const ac = new AbortController();
    const pending = get(stalls.url, {}, ac.signal);
    setTimeout(() => ac.abort(new Error('idle timeout')), 20);
    await assert.rejects(pending, /idle timeout/);

    const ac2 = new AbortController();
    const res = await get(trickles.url, {}, ac2.signal);
    const consuming = res.consume(() => {
      ac2.abort(new Error('stop'));
      return undefined;
    });
    await assert.rejects(consuming, /stop/);

    const res3 = await get(trickles.url);
    await assert.rejects(res3.consume(() => { throw new Error('disk full'); }), /disk full/);

    const res4 = await get(trickles.url);
    await res4.cancel();
    await assert.rejects(res4.consume(() => undefined));
  } finally {
    await stalls.close();
    await trickles.close();
  }
});
