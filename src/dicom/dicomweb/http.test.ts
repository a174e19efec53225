/**
 * The exchange's idle timer: a refused upload (401 while the body is still going out) must not
 * re-arm it after the exchange is over — a leaked 60 s timer kept test processes alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { isDfaError } from '../../core/errors.ts';
import { basicAuth } from '../../net/http-auth.ts';
import { exchange } from './http.ts';
import type { Transport } from '../../net/transport.ts';

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a 401 during an upload: typed error, the upload is aborted, and no timer is left behind', async () => {
  let uploadProgress: (() => void) | undefined;
  let signal: AbortSignal | undefined;
  const transport: Transport = async (_url, req) => {
    uploadProgress = req.onUpload;
    signal = req.signal;
    return { status: 401, statusText: 'Unauthorized', header: () => undefined, consume: async () => undefined, text: async () => 'no', cancel: async () => undefined };
  };
  const before = timeouts();
  await assert.rejects(
    exchange(
      { endpoint: { baseUrl: 'http://127.0.0.1:1', scheme: 'basic', auth: basicAuth('x', 'y') }, timeoutMs: 60_000, transport },
      { method: 'POST', path: '/studies', accept: 'application/dicom+json', body: new Blob(['x']), what: 'STOW-RS' },
    ),
    (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 401,
  );
  uploadProgress?.(); // the body keeps flowing after the answer
  await tick();
  assert.equal(timeouts(), before, 'no idle timer re-armed after the exchange ended');
  assert.equal(signal?.aborted, true, 'the rest of the upload is cancelled');
});
