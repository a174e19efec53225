import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOrthanc } from './orthanc.ts';

const run = promisify(execFile);

test('test harness starts a real Orthanc that answers REST, DICOMweb and C-ECHO (dcmtk echoscu)', async () => {
  const o = await startOrthanc();
  try {
    const sys = (await (await o.rest('/system')).json()) as { DicomAet: string };
    assert.equal(sys.DicomAet, 'ORTHANC');
    const q = await o.rest('/dicom-web/studies');
    assert.equal(q.status, 200);
    const { stderr } = await run('echoscu', ['-v', '-aet', 'DFATEST', '-aec', o.aet, '127.0.0.1', String(o.dicomPort)]);
    assert.match(stderr, /Received Echo Response \(Success\)/);
  } finally {
    await o.stop();
  }
});
