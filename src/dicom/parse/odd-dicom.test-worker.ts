// Worker for odd-dicom.test.ts: parses and decodes one file per message, so the test can
// terminate it when a file hangs (a synchronous loop cannot be interrupted any other way).
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { isDfaError } from '../../core/errors.ts';
import { decodeFrames } from './pixels.ts';
import { readDicomFile } from './read-part10.ts';

export interface OddResult {
  file: string;
  outcome: 'decoded' | 'dfa-error' | 'other-error';
  code?: string;
  message?: string;
  rows?: number;
  columns?: number;
  frames?: number;
  samplesPerPixel?: number;
  sha256?: string;
}

parentPort!.on('message', (file: string) => {
  void (async () => {
    let r: OddResult;
    try {
      const p = await readDicomFile(file);
      const { format, frames } = await decodeFrames(p);
      const h = createHash('sha256');
      for (const f of frames) h.update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
      r = { file, outcome: 'decoded', rows: format.rows, columns: format.columns, frames: frames.length, samplesPerPixel: format.samplesPerPixel, sha256: h.digest('hex') };
    } catch (e) {
      r = isDfaError(e)
        ? { file, outcome: 'dfa-error', code: e.code, message: e.message }
        : { file, outcome: 'other-error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    parentPort!.postMessage(r);
  })();
});
