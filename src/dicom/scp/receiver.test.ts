/** Our SCP against dcmtk's storescu/echoscu: accepts allowed AEs into the artifact store, rejects others and says why. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryLogger } from '../../core/log.ts';
import { LocalArtifactStore } from '../../storage/local-artifacts.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import { fileNameFor } from './instance-file.ts';
import { DicomScp } from './receiver.ts';

const run = promisify(execFile);
const env = { ...process.env, TCP_NODELAY: '1' };

test('SCP stores pushes from allowed AEs in the artifact store inbox and rejects other calling AEs with a log line saying what to configure', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-scp-'));
  const log = memoryLogger('info');
  const artifacts = new LocalArtifactStore(join(root, 'artifacts'));
  const scp = await new DicomScp({ aet: 'DFA', port: 0, allowedAets: ['ORTHANC'], sink: { artifacts }, log }).start();
  try {
    assert.equal(scp.host, '127.0.0.1'); // loopback unless told otherwise
    const files = ['IMG0001.dcm', 'IMG0002.dcm', 'IMG0003.dcm'].map((f) => join(CIP64_DICOM_DIR, f));
    const { stderr: echo } = await run('echoscu', ['-v', '-aet', 'ORTHANC', '-aec', 'DFA', '127.0.0.1', String(scp.port)], { env });
    assert.match(echo, /Received Echo Response \(Success\)/);
    await run('storescu', ['-aet', 'ORTHANC', '-aec', 'DFA', '127.0.0.1', String(scp.port), ...files], { env });
    const keys = await artifacts.list('inbox');
    assert.equal(keys.length, 3);
    assert.equal(scp.inbox.length, 3);
    // What arrived has the same pixel bytes (storescu may re-encode the header in the transfer syntax
    // we accepted), wrapped in a valid Part 10 header (dcmdump reads it).
    const src = splitPart10(await readFile(files[0]));
    const got = scp.inbox.find((i) => i.sopInstanceUid === src.sopInstanceUid);
    assert.ok(got);
    assert.ok(splitPart10(await readFile(got.path)).dataset.subarray(-8192).equals(src.dataset.subarray(-8192)));
    await run('dcmdump', ['-q', got.path]);

    await assert.rejects(run('storescu', ['-aet', 'INTRUDER', '-aec', 'DFA', '127.0.0.1', String(scp.port), files[0]], { env }), /Association Rejected|rejected/i);
    assert.ok(log.lines.some((l) => /calling AE 'INTRUDER' is not on the allow-list.*DFA_SCP_ALLOWED_AETS/.test(l)), log.lines.join('\n'));
    await assert.rejects(run('echoscu', ['-aet', 'ORTHANC', '-aec', 'NOTDFA', '127.0.0.1', String(scp.port)], { env }));
    assert.ok(log.lines.some((l) => /called AE 'NOTDFA' is not ours/.test(l)));
    assert.equal((await artifacts.list('inbox')).length, 3);
  } finally {
    await scp.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('file names made from sender-supplied UIDs cannot leave their directory', () => {
  for (const uid of ['../../etc/passwd', '..', '/abs/path', '1.2.3']) {
    const name = fileNameFor(uid);
    assert.ok(!name.includes('/') && !name.startsWith('.'), name);
  }
  assert.equal(fileNameFor('1.2.3'), '1.2.3.dcm');
});
