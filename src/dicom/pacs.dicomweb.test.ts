/** The composite Pacs with DICOMweb against Orthanc: STOW-RS store, QIDO-only queries, C-GET refused → WADO-RS fallback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { startOrthanc } from '../../test/support/orthanc.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { createPacs } from './pacs.ts';

const files = readdirSync(CIP64_DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CIP64_DICOM_DIR, f));

test('STOW-RS store, QIDO-RS queries, and C-GET refused for our AE falling back to WADO-RS with the reason logged', async () => {
  const orthanc = await startOrthanc({
    extraConfig: { DicomModalities: { noget: { AET: 'DFANOGET', Host: '127.0.0.1', Port: 1, AllowEcho: true, AllowFind: true, AllowMove: true, AllowGet: false, AllowStore: true } } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'dfa-pacs-web-'));
  const log = memoryLogger('info');
  const web = createPacs({ dicomweb: { baseUrl: orthanc.dicomWebUrl }, retrieve: ['wado-rs'], store: 'stow-rs', log });
  const both = createPacs({
    dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'DFANOGET' },
    dicomweb: { baseUrl: orthanc.dicomWebUrl }, retrieve: ['c-get', 'wado-rs'], store: 'c-store', log,
  });
  try {
    const stored = await web.store(files);
    assert.equal(stored.filter((s) => s.ok).length, files.length);
    await web.echo();
    const [study] = await web.findStudies({ patientId: '123456', modality: 'CT' });
    assert.equal(study.numberOfInstances, files.length);
    const [series] = await web.findSeries(study.studyInstanceUid);
    assert.equal((await web.findInstances(study.studyInstanceUid, series.seriesInstanceUid)).length, files.length);

    const r = await both.retrieve({ studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid }, dir);
    assert.equal(r.method, 'wado-rs');
    assert.deepEqual(r.attempts.map((a) => [a.method, a.ok]), [['c-get', false], ['wado-rs', true]]);
    assert.match(r.attempts[0].reason ?? '', /(refused|aborted) C-GET from calling AE 'DFANOGET'.*register AE 'DFANOGET'/);
    assert.equal(r.instances.length, files.length);
    assert.equal((await readdir(dir)).filter((f) => f.endsWith('.dcm')).length, files.length);
    assert.ok(log.lines.some((l) => /retrieve by c-get failed, trying wado-rs: /.test(l)), log.lines.join('\n'));
  } finally {
    await web.close();
    await both.close();
    await orthanc.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
