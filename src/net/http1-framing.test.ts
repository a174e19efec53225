/**
 * HTTP/1.1 framing (RFC 9112): the chunked decoder gives the same body for every way the bytes can
 * be split across reads (every single split offset, byte by byte, random splits), rejects malformed
 * and truncated input with a typed error, and the head parser / framing rules follow 6.3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDfaError } from '../core/errors.ts';
import { ChunkedDecoder, framerFor, parseHead, type BodyFramer } from './http1-framing.ts';

const BODY = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff));
/** BODY as chunks of 1, 16, 200 (hex c8, with an extension) and 83 bytes, a trailer, and junk after. */
const CHUNKED = Buffer.concat([
  Buffer.from('1\r\n'), BODY.subarray(0, 1), Buffer.from('\r\n'),
  Buffer.from('10\r\n'), BODY.subarray(1, 17), Buffer.from('\r\n'),
  Buffer.from('C8;name="x\\"y"\r\n'), BODY.subarray(17, 217), Buffer.from('\r\n'),
  Buffer.from('53 \r\n'), BODY.subarray(217), Buffer.from('\r\n'),
  Buffer.from('0\r\nX-Checksum: abc\r\n\r\n'),
  Buffer.from('HTTP/1.1 200 OK\r\n'), // the next response on a keep-alive connection: not body
]);

/** Feeds `pieces` one by one (each a fresh view that is then overwritten, as a reused read buffer is). */
function decode(framer: BodyFramer, pieces: Buffer[]): { body: Buffer; complete: boolean } {
  const got: Buffer[] = [];
  let complete = false;
  for (const p of pieces) {
    const scratch = Buffer.from(p);
    const out: Buffer[] = [];
    complete = framer.push(scratch, out) || complete;
    got.push(...out.map((b) => Buffer.from(b))); // copy before the "read buffer" is reused
    scratch.fill(0xee);
  }
  return { body: Buffer.concat(got), complete };
}

function splitAt(b: Buffer, offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let last = 0;
  for (const o of [...offsets, b.length]) {
    out.push(b.subarray(last, o));
    last = o;
  }
  return out;
}

test('chunked: the same body whatever single offset the input is split at', () => {
  for (let i = 0; i <= CHUNKED.length; i++) {
    const r = decode(new ChunkedDecoder(), splitAt(CHUNKED, [i]));
    assert.deepEqual(r.body, BODY, `split at ${i}`);
    assert.equal(r.complete, true);
  }
});

test('chunked: byte by byte, and 200 random splittings', () => {
  const bytes = Array.from({ length: CHUNKED.length }, (_, i) => CHUNKED.subarray(i, i + 1));
  assert.deepEqual(decode(new ChunkedDecoder(), bytes).body, BODY);
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let k = 0; k < 200; k++) {
    const cuts = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * CHUNKED.length)).sort((a, b) => a - b);
    const r = decode(new ChunkedDecoder(), splitAt(CHUNKED, cuts));
    assert.deepEqual(r.body, BODY, `cuts ${cuts.join(',')}`);
    assert.equal(r.complete, true);
  }
});

test('chunked: truncated anywhere before the end of the trailer section is a typed error at EOF', () => {
  const end = CHUNKED.indexOf('HTTP/1.1');
  for (let i = 0; i < end; i++) {
    const d = new ChunkedDecoder();
    assert.equal(decode(d, [CHUNKED.subarray(0, i)]).complete, false, `complete after ${i} bytes?`);
    assert.throws(() => d.eof(), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /truncated/.test(e.message));
  }
});

test('chunked: malformed sizes and overlong chunk data are typed errors', () => {
  for (const bad of ['zz\r\nab\r\n0\r\n\r\n', '-1\r\n', '2\r\nabc\r\n0\r\n\r\n', '2\nab\r\n', '1234567890abc\r\n']) {
    assert.throws(() => new ChunkedDecoder().push(Buffer.from(bad), []), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR'), JSON.stringify(bad));
  }
});

test('head: status line, reason, repeated fields joined, obsolete line folding unfolded', () => {
  const h = parseHead('HTTP/1.1 406 Not Acceptable\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\nX-Long: a\r\n  b');
  assert.equal(h.status, 406);
  assert.equal(h.statusText, 'Not Acceptable');
  assert.equal(h.headers['content-type'], 'text/plain');
  assert.equal(h.headers['x-a'], '1, 2');
  assert.equal(h.headers['x-long'], 'a b');
  assert.equal(parseHead('HTTP/1.0 200').statusText, '');
  for (const bad of ['HTTP/2 200 OK', 'ICY 200 OK', 'HTTP/1.1 200 OK\r\nBad Field : x', 'HTTP/1.1 200 OK\r\nno colon']) {
    assert.throws(() => parseHead(bad), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR'), bad);
  }
});

test('framing rules (RFC 9112 6.3): chunked beats Content-Length, 204 has no body, bad lengths refused', () => {
  const head = (status: number, headers: Record<string, string>) => ({ status, statusText: '', headers });
  assert.ok(framerFor(head(200, { 'transfer-encoding': 'chunked', 'content-length': '5' })) instanceof ChunkedDecoder);
  const cl = framerFor(head(200, { 'content-length': '5, 5' }));
  assert.deepEqual(decode(cl, [Buffer.from('abcdefgh')]), { body: Buffer.from('abcde'), complete: true });
  assert.equal(framerFor(head(204, {})).push(Buffer.from('x'), []), true);
  assert.equal(framerFor(head(304, { 'content-length': '10' })).push(Buffer.alloc(0), []), true);
  const close = framerFor(head(200, {}));
  assert.deepEqual(decode(close, [Buffer.from('ab'), Buffer.from('c')]), { body: Buffer.from('abc'), complete: false });
  close.eof(); // the close is the end: no error
  const gzipOnly = framerFor(head(200, { 'transfer-encoding': 'gzip' }));
  assert.equal(gzipOnly.push(Buffer.from('zz'), []), false, 'a non-chunked final coding is read until close');
  for (const bad of ['5, 6', '-1', 'abc', '']) {
    assert.throws(() => framerFor(head(200, { 'content-length': bad })), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR'), bad);
  }
  const short = framerFor(head(200, { 'content-length': '10' }));
  short.push(Buffer.from('abc'), []);
  assert.throws(() => short.eof(), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /3 of 10 bytes/.test(e.message));
});
