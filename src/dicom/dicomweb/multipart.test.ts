import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDfaError } from '../../core/errors.ts';
import { MultipartParser, parseContentType, type MultipartPart } from './multipart.ts';

const BOUNDARY = 'b0und-ary';
// Bodies that contain near-misses of the delimiter, CR/LF runs and a trailing CR, so a parser that
// mishandles a delimiter split across chunks or a partial match produces different bytes.
const BODIES = [
  Buffer.from('DICM\x00\x01\r\n--b0und-ar\r\n-\r\n--b0und-arX\r\n-b0und-ary\r', 'latin1'),
  Buffer.alloc(0),
  Buffer.from([0x0d, 0x0a, 0x2d, 0x2d, 0x62, 0x30, 0x0d, 0x0d, 0x0a, 0x0a, 0xff, 0x00, 0x0d]),
];

function body(): Buffer {
  const parts = BODIES.map((b, i) =>
    Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\nContent-Location: /i/${i}\r\nX-Folded: a\r\n b\r\n\r\n`, 'latin1'),
      b,
      Buffer.from('\r\n', 'latin1'),
    ]),
  );
  return Buffer.concat([Buffer.from('preamble, ignored\r\n'), ...parts, Buffer.from(`--${BOUNDARY}--\r\nepilogue, ignored`)]);
}

function parse(chunks: Buffer[]): MultipartPart[] {
  const p = new MultipartParser(BOUNDARY);
  const out: MultipartPart[] = [];
  for (const c of chunks) out.push(...p.push(c));
  p.end();
  return out;
}

function check(parts: MultipartPart[], where: string): void {
  assert.equal(parts.length, BODIES.length, where);
  parts.forEach((part, i) => {
    assert.deepEqual(Buffer.concat(part.chunks), BODIES[i], `${where}: part ${i} bytes`);
    assert.equal(part.size, BODIES[i].length, `${where}: part ${i} size`);
    assert.equal(part.headers['content-type'], 'application/dicom', where);
    assert.equal(part.headers['content-location'], `/i/${i}`, where);
    assert.equal(part.headers['x-folded'], 'a b', where);
  });
}

test('multipart: same parts whatever the split point (every offset, two chunks)', () => {
  const b = body();
  for (let k = 0; k <= b.length; k++) check(parse([b.subarray(0, k), b.subarray(k)]), `split at ${k}`);
});

test('multipart: same parts with three chunks at every pair of offsets, and byte by byte', () => {
  const b = body();
  for (let k = 0; k <= b.length; k += 1) {
    for (let m = k; m <= b.length; m += 7) check(parse([b.subarray(0, k), b.subarray(k, m), b.subarray(m)]), `split at ${k},${m}`);
  }
  check(parse([...b].map((x) => Buffer.from([x]))), 'byte by byte');
});

/** Streaming mode; each chunk is overwritten after push(), as a reused read buffer would be. */
function parseStreaming(chunks: Buffer[]): MultipartPart[] {
  const out: MultipartPart[] = [];
  let cur: Buffer[] = [];
  let headers: Readonly<Record<string, string>> = {};
  const p = new MultipartParser(BOUNDARY, {
    start: (h) => {
      headers = h;
      cur = [];
    },
    data: (b) => cur.push(Buffer.from(b)), // the sink copies: views are valid only during the call
    end: () => out.push({ headers, chunks: cur, size: cur.reduce((n, c) => n + c.length, 0) }),
  });
  for (const c of chunks) {
    const reused = Buffer.from(c);
    assert.deepEqual(p.push(reused), [], 'parts go to the sink');
    reused.fill(0xee);
  }
  p.end();
  return out;
}

test('multipart with a sink: same parts for every split, and no chunk retained after push()', () => {
  const b = body();
  for (let k = 0; k <= b.length; k++) {
    for (let m = k; m <= b.length; m += 11) check(parseStreaming([b.subarray(0, k), b.subarray(k, m), b.subarray(m)]), `split at ${k},${m}`);
  }
  check(parseStreaming([...b].map((x) => Buffer.from([x]))), 'byte by byte');
});

test('multipart: a body that starts directly with the delimiter, and a part without headers', () => {
  const b = Buffer.from(`--${BOUNDARY}\r\n\r\nraw\r\n--${BOUNDARY}--`, 'latin1');
  const parts = parse([b]);
  assert.equal(parts.length, 1);
  assert.deepEqual(parts[0].headers, {});
  assert.equal(Buffer.concat(parts[0].chunks).toString(), 'raw');
});

test('multipart: a truncated body is a typed error, not silently fewer parts', () => {
  const b = body();
  const cut = b.subarray(0, b.length - 30);
  const p = new MultipartParser(BOUNDARY);
  const got = p.push(cut);
  assert.equal(got.length, BODIES.length - 1);
  assert.throws(() => p.end(), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /truncated/.test(e.message));
});

test('multipart: content-type parameters, quoted or not', () => {
  const ct = parseContentType('multipart/related; type="application/dicom"; boundary="a b;c"');
  assert.equal(ct.type, 'multipart/related');
  assert.deepEqual(ct.params, { type: 'application/dicom', boundary: 'a b;c' });
  assert.deepEqual(parseContentType('Multipart/Related;Boundary=xyz').params, { boundary: 'xyz' });
});
