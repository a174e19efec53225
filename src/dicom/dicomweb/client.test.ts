/**
 * DicomWebClient against a real Orthanc (DICOMweb plugin): STOW-RS of the CIP64 chest CT, QIDO-RS
 * at study/series/instance level with filters and paging, WADO-RS of a study, a series and one
 * instance (bytes compared with what was uploaded; dcmdump reads what we wrote), partial STOW
 * failure, and HTTP faults. Auth cases are in client-auth.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { startOrthanc, type OrthancHandle } from '../../../test/support/orthanc.ts';
import { freePort } from '../../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { DicomWebClient } from './client.ts';
import { part10Ids } from './part10-ids.ts';

const run = promisify(execFile);

// A second, small study made from one CIP64 slice with dcmodify (dcmtk), so filters have something
// to tell apart: another patient, date, accession and modality.
const OTHER = {
  study: '1.2.826.0.1.3680043.9.7433.1.1',
  series: '1.2.826.0.1.3680043.9.7433.1.1.1',
  sop: '1.2.826.0.1.3680043.9.7433.1.1.1.1',
  patientId: 'DFA-OTHER',
  date: '20200315',
  accession: 'ACC-OTHER',
};

let orthanc: OrthancHandle;
let client: DicomWebClient;
let scratch: string;
let cipFiles: string[];
let otherFile: string;
const log = memoryLogger();

async function dcmodify(src: string, dest: string, mods: Record<string, string>): Promise<string> {
  await copyFile(src, dest);
  const args = Object.entries(mods).flatMap(([k, v]) => ['-nb', '-m', `${k}=${v}`]);
  await run('dcmodify', [...args, dest]);
  return dest;
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dfa-dicomweb-'));
  orthanc = await startOrthanc();
  client = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, log, qidoPageSize: 10 });
  cipFiles = (await readdir(CIP64_DICOM_DIR)).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CIP64_DICOM_DIR, f));
  otherFile = await dcmodify(cipFiles[0], join(scratch, 'other.dcm'), {
    StudyInstanceUID: OTHER.study,
    SeriesInstanceUID: OTHER.series,
    SOPInstanceUID: OTHER.sop,
    PatientID: OTHER.patientId,
    StudyDate: OTHER.date,
    AccessionNumber: OTHER.accession,
    Modality: 'MR',
  });
});

after(async () => {
  await orthanc?.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('STOW-RS stores the 79-slice CIP64 series and a second study; one ok outcome per file', async () => {
  const outcomes = await client.store([...cipFiles, otherFile]);
  assert.equal(outcomes.length, 80);
  for (const [i, o] of outcomes.entries()) {
    assert.equal(o.ok, true, `${i}: ${o.reason ?? ''}`);
    assert.equal(o.status, 200);
  }
  assert.equal(outcomes[79].sopInstanceUid, OTHER.sop);
  const stats = (await (await orthanc.rest('/statistics')).json()) as { CountInstances: number; CountStudies: number };
  assert.equal(stats.CountInstances, 80);
  assert.equal(stats.CountStudies, 2);
});

test('QIDO-RS studies: filters on patient, accession, modality, date range and UID', async () => {
  const all = await client.qidoStudies({});
  assert.equal(all.length, 2);
  const cip = all.find((s) => s.studyInstanceUid !== OTHER.study);
  assert.ok(cip);
  assert.deepEqual(cip.modalities, ['CT']);
  assert.equal(cip.numberOfInstances, 79);
  assert.equal(cip.patientId, '123456');

  const byPatient = await client.qidoStudies({ patientId: OTHER.patientId });
  assert.deepEqual(byPatient.map((s) => s.studyInstanceUid), [OTHER.study]);
  assert.equal(byPatient[0].accessionNumber, OTHER.accession);
  assert.equal(byPatient[0].studyDate, OTHER.date);
  assert.deepEqual((await client.qidoStudies({ accessionNumber: OTHER.accession })).map((s) => s.studyInstanceUid), [OTHER.study]);
  assert.deepEqual((await client.qidoStudies({ modality: 'MR' })).map((s) => s.studyInstanceUid), [OTHER.study]);
  assert.deepEqual((await client.qidoStudies({ modality: 'CT' })).map((s) => s.studyInstanceUid), [cip.studyInstanceUid]);
  assert.deepEqual((await client.qidoStudies({ studyDateFrom: '20200101', studyDateTo: '20201231' })).map((s) => s.studyInstanceUid), [OTHER.study]);
  assert.deepEqual((await client.qidoStudies({ studyDateTo: '20191231' })).map((s) => s.studyInstanceUid), [cip.studyInstanceUid]);
  assert.deepEqual((await client.qidoStudies({ studyInstanceUid: OTHER.study })).length, 1);
  assert.deepEqual(await client.qidoStudies({ patientId: 'NO-SUCH-PATIENT' }), []);
});

test('QIDO-RS series (modality filter) and instances (paged: 79 results in pages of 10)', async () => {
  const [cip] = await client.qidoStudies({ modality: 'CT' });
  const series = await client.qidoSeries(cip.studyInstanceUid);
  assert.equal(series.length, 1);
  assert.equal(series[0].modality, 'CT');
  assert.equal(series[0].numberOfInstances, 79);
  assert.deepEqual(await client.qidoSeries(cip.studyInstanceUid, { modality: 'MR' }), []);
  assert.equal((await client.qidoSeries(cip.studyInstanceUid, { modality: 'CT' })).length, 1);

  const instances = await client.qidoInstances(cip.studyInstanceUid, series[0].seriesInstanceUid);
  assert.equal(instances.length, 79);
  assert.equal(new Set(instances.map((i) => i.sopInstanceUid)).size, 79, 'paging neither repeats nor drops results');
  assert.deepEqual(instances.map((i) => i.instanceNumber).sort((a, b) => (a ?? 0) - (b ?? 0)), Array.from({ length: 79 }, (_, i) => i + 1));
  assert.ok(instances.every((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.2' && i.seriesInstanceUid === series[0].seriesInstanceUid));
});

test('WADO-RS series: every instance written to disk byte-identical to what was stored, readable by dcmdump', async () => {
  const [cip] = await client.qidoStudies({ modality: 'CT' });
  const [series] = await client.qidoSeries(cip.studyInstanceUid);
  const dest = join(scratch, 'wado-series');
  const got = await client.retrieveSeries(cip.studyInstanceUid, series.seriesInstanceUid, dest);
  assert.equal(got.length, 79);
  assert.equal((await readdir(dest)).filter((f) => f.endsWith('.dcm')).length, 79, 'no temp files left');
  const originals = new Map<string, string>();
  for (const f of cipFiles) originals.set(part10Ids(await readFile(f)).sopInstanceUid, f);
  for (const inst of got) {
    assert.equal(inst.seriesInstanceUid, series.seriesInstanceUid);
    assert.equal(inst.studyInstanceUid, cip.studyInstanceUid);
    assert.equal(inst.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
    const original = originals.get(inst.sopInstanceUid);
    assert.ok(original, `unknown instance ${inst.sopInstanceUid}`);
    assert.deepEqual(await readFile(inst.path), await readFile(original), `bytes of ${inst.sopInstanceUid}`);
  }
  const { stdout } = await run('dcmdump', ['+P', '0008,0018', '+P', '7fe0,0010', got[0].path]);
  assert.match(stdout, new RegExp(`\\[${got[0].sopInstanceUid.replace(/\./g, '\\.')}\\]`));
  assert.match(stdout, /\(7fe0,0010\) OW .*# 8192,/, 'dcmdump sees 64x64x16-bit pixel data');
});

test('WADO-RS study and single instance', async () => {
  const study = await client.retrieveStudy(OTHER.study, join(scratch, 'wado-study'));
  assert.deepEqual(study.map((i) => [i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid]), [[OTHER.study, OTHER.series, OTHER.sop]]);
  assert.deepEqual(await readFile(study[0].path), await readFile(otherFile));

  const one = await client.retrieveInstance(OTHER.study, OTHER.series, OTHER.sop, join(scratch, 'wado-instance'));
  assert.equal(one.sopInstanceUid, OTHER.sop);
  const { stdout } = await run('dcmdump', ['+P', '0010,0020', '+P', '0008,0060', one.path]);
  assert.match(stdout, /\[DFA-OTHER\]/);
  assert.match(stdout, /\[MR\]/);
});

test('STOW-RS partial failure: the good instance is stored, the truncated one is reported as not stored', async () => {
  const good = await dcmodify(cipFiles[1], join(scratch, 'good.dcm'), { SOPInstanceUID: `${OTHER.sop}.2`, SeriesInstanceUID: OTHER.series, StudyInstanceUID: OTHER.study });
  const bytes = await readFile(cipFiles[2]);
  const truncated = join(scratch, 'truncated.dcm');
  await writeFile(truncated, bytes.subarray(0, 2000)); // header intact, pixel data cut off
  const outcomes = await client.store([good, truncated]);
  assert.equal(outcomes.length, 2);
  assert.equal(outcomes[0].ok, true);
  assert.equal(outcomes[0].sopInstanceUid, `${OTHER.sop}.2`);
  assert.equal(outcomes[1].ok, false);
  assert.equal(outcomes[1].sopInstanceUid, part10Ids(bytes).sopInstanceUid);
  assert.ok(outcomes[1].reason);
  const inSeries = await client.qidoInstances(OTHER.study, OTHER.series);
  assert.deepEqual(inSeries.map((i) => i.sopInstanceUid).sort(), [OTHER.sop, `${OTHER.sop}.2`]);
});

test('STOW-RS refuses a file that is not DICOM before sending anything (typed error naming the file)', async () => {
  const junk = join(scratch, 'junk.dcm');
  await writeFile(junk, 'not dicom at all');
  await assert.rejects(client.store([junk]), (e) => isDfaError(e, 'STORE_FAILED') && e.message.includes(junk));
});

test('HTTP faults are typed: 404 with the server text, unreachable server, stalled server', async () => {
  await assert.rejects(client.retrieveSeries(OTHER.study, '1.2.3.4.5', join(scratch, 'nope')), (e) => {
    return isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 404 && /HTTP 404/.test(e.message);
  });
  const closed = new DicomWebClient({ baseUrl: `http://127.0.0.1:${await freePort()}/dicom-web` });
  await assert.rejects(closed.qidoStudies({}), (e) => isDfaError(e, 'SERVICE_UNREACHABLE') && /DFA_DICOMWEB_URL/.test(e.message));

  const { createServer } = await import('node:http');
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const stalled = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/dicom-web`, timeoutMs: 300 });
    await assert.rejects(stalled.qidoStudies({}), (e) => isDfaError(e, 'DICOM_TIMEOUT'));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
