/**
 * DicomWebClient WADO-RS over raw-http.ts against a local TCP server that controls every byte:
 * the same instances whether the multipart body is framed by Content-Length, chunked coding or
 * the close; the 406 fallback; the server's error text; an idle timeout and a server closing in the
 * middle of a part are typed errors that leave no `.part-*` temp files. (client.test.ts covers the
 * same client against a real Orthanc.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDfaError } from '../../core/errors.ts';
import type { Socket } from 'node:net';
import { startScriptServer, type Script } from '../../../test/support/script-server.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { DicomWebClient } from './client.ts';
import { part10Ids } from './part10-ids.ts';

const STUDY = '1.2.3.4';
const BOUNDARY = 'dfa-test-boundary';
let scratch: string;
let instances: Buffer[];
let multipart: Buffer;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dfa-wado-raw-'));
  instances = await Promise.all(['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm'].map((f) => readFile(join(CIP64_DICOM_DIR, f))));
  multipart = Buffer.concat([
    ...instances.flatMap((b) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), b, Buffer.from('\r\n')]),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A local server answering each request head with `script` (n counts requests from 0). */
async function withServer(script: Script, fn: (baseUrl: string, requests: string[]) => Promise<void>): Promise<void> {
  const server = await startScriptServer(script);
  try {
    await fn(`${server.origin}/dicom-web`, server.requests);
  } finally {
    await server.close();
  }
}

const MULTIPART_HEAD = `Content-Type: multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

function chunkedOf(body: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  return Buffer.concat([...out, Buffer.from('0\r\n\r\n')]);
}

async function assertSameInstances(dir: string, got: { path: string; sopInstanceUid: string }[]): Promise<void> {
  assert.equal(got.length, instances.length);
  for (const [i, inst] of got.entries()) {
    assert.equal(inst.sopInstanceUid, part10Ids(instances[i]).sopInstanceUid);
    assert.deepEqual(await readFile(inst.path), instances[i]);
  }
  assert.deepEqual((await readdir(dir)).sort(), got.map((g) => `${g.sopInstanceUid}.dcm`).sort(), 'only the instances, no temp files');
}

test('WADO-RS: identical files whether the body is framed by Content-Length, chunked coding or the close', async () => {
  const framings: Record<string, (s: Socket) => Promise<void>> = {
    'content-length': async (s) => {
      s.write(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\nContent-Length: ${multipart.length}\r\nConnection: keep-alive\r\n\r\n`);
      s.write(multipart); // and the connection stays open
    },
    chunked: async (s) => {
      const wire = chunkedOf(multipart, 777);
      s.write(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < wire.length; i += 5000) {
        s.write(wire.subarray(i, i + 5000));
        await sleep(2);
      }
    },
    close: async (s) => {
      s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\nConnection: close\r\n\r\n`), multipart]));
    },
  };
  for (const [name, script] of Object.entries(framings)) {
    await withServer(script, async (baseUrl, requests) => {
      const dir = join(scratch, name);
      const got = await new DicomWebClient({ baseUrl, token: 's3cret' }).retrieveStudy(STUDY, dir);
      await assertSameInstances(dir, got);
      assert.match(requests[0], /^GET \/dicom-web\/studies\/1\.2\.3\.4 HTTP\/1\.1\r\n/);
      assert.match(requests[0], /\r\nAuthorization: Bearer s3cret\r\n/);
      assert.match(requests[0], /\r\nConnection: close\r\n/, 'sent by raw-http.ts (node:http says keep-alive)');
      assert.match(requests[0], /\r\nAccept: multipart\/related; type="application\/dicom"; transfer-syntax=\*\r\n/);
    });
  }
});

test('WADO-RS: a 406 for transfer-syntax=* is retried plainly (and remembered); other errors carry the server text', async () => {
  await withServer(
    (s, req) => {
      if (req.includes('transfer-syntax=*')) s.end('HTTP/1.1 406 Not Acceptable\r\nContent-Length: 4\r\n\r\nnope');
      else s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\n\r\n`), multipart]));
    },
    async (baseUrl, requests) => {
      const client = new DicomWebClient({ baseUrl });
      await assertSameInstances(join(scratch, '406'), await client.retrieveStudy(STUDY, join(scratch, '406')));
      await client.retrieveStudy(STUDY, join(scratch, '406b'));
      assert.deepEqual(requests.map((r) => r.includes('transfer-syntax=*')), [true, false, false]);
    },
  );
  await withServer(
    (s) => s.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nstorage\r\n8\r\n offline\r\n0\r\n\r\n'),
    async (baseUrl) => {
      await assert.rejects(new DicomWebClient({ baseUrl }).retrieveStudy(STUDY, join(scratch, '503')), (e) => {
        return isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 503 && e.message.includes('HTTP 503 Service Unavailable — storage offline');
      });
    },
  );
});

test('WADO-RS: a server that stalls mid-part is DICOM_TIMEOUT, one that closes mid-part a typed error; no .part-* files left', async () => {
  const cut = multipart.indexOf(instances[1]) + 4000; // inside the second instance
  const head = `HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\nContent-Length: ${multipart.length}\r\n\r\n`;
  await withServer(
    (s) => {
      s.write(head);
      s.write(multipart.subarray(0, cut)); // then nothing more
    },
    async (baseUrl) => {
      const dir = join(scratch, 'stall');
      await assert.rejects(new DicomWebClient({ baseUrl, timeoutMs: 300 }).retrieveStudy(STUDY, dir), (e) => isDfaError(e, 'DICOM_TIMEOUT'));
      assert.deepEqual(await readdir(dir), [`${part10Ids(instances[0]).sopInstanceUid}.dcm`], 'the complete first instance, no temp file');
    },
  );
  for (const framing of ['content-length', 'close', 'chunked']) {
    await withServer(
      (s) => {
        if (framing === 'content-length') s.end(Buffer.concat([Buffer.from(head), multipart.subarray(0, cut)]));
        else if (framing === 'close') s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\n\r\n`), multipart.subarray(0, cut)]));
        else s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\nTransfer-Encoding: chunked\r\n\r\n`), chunkedOf(multipart.subarray(0, cut), 1000).subarray(0, -5)]));
      },
      async (baseUrl) => {
        const dir = join(scratch, `closed-${framing}`);
        await assert.rejects(new DicomWebClient({ baseUrl }).retrieveStudy(STUDY, dir), (e) => {
          return isDfaError(e, 'DICOMWEB_HTTP_ERROR') && /truncated/.test(e.message);
        }, framing);
        assert.deepEqual(await readdir(dir), [`${part10Ids(instances[0]).sopInstanceUid}.dcm`], `${framing}: no temp file`);
      },
    );
  }
});

test('WADO-RS: a part that is not DICOM is DICOM_PARSE_FAILED and leaves no temp file', async () => {
  const bad = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n\r\n`), Buffer.alloc(5000, 0x41), Buffer.from(`\r\n--${BOUNDARY}--`)]);
  await withServer(
    (s) => s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${MULTIPART_HEAD}\r\n\r\n`), bad])),
    async (baseUrl) => {
      const dir = join(scratch, 'not-dicom');
      await assert.rejects(new DicomWebClient({ baseUrl }).retrieveStudy(STUDY, dir), (e) => isDfaError(e, 'DICOM_PARSE_FAILED'));
      assert.deepEqual(await readdir(dir), []);
    },
  );
});
