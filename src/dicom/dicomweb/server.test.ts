/**
 * The DICOMweb face of the embedded PACS, exercised by our own DicomWebClient (the same calls the
 * Orthanc tests make): STOW-RS of the CIP64 series, QIDO-RS at three levels with filters and paging,
 * WADO-RS of a series and an instance (data sets byte-identical to the uploaded ones; dcmdump reads
 * them), partial STOW failure with FailureReason, auth, and data surviving a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import { PacsIndexStore } from '../embedded-pacs/index-store.ts';
import { DicomWebClient } from './client.ts';
import { DicomWebServer } from './server.ts';

const run = promisify(execFile);
let dir: string;
let server: DicomWebServer;
let client: DicomWebClient;
let files: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dfa-dicomweb-server-'));
  server = await DicomWebServer.start({ store: await PacsIndexStore.open(join(dir, 'pacs')) });
  client = new DicomWebClient({ baseUrl: server.url, qidoPageSize: 25 });
  files = (await readdir(CIP64_DICOM_DIR)).sort().map((f) => join(CIP64_DICOM_DIR, f));
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('STOW-RS into the embedded PACS, then QIDO-RS at study, series and instance level', async () => {
  const outcomes = await client.store(files);
  assert.equal(outcomes.filter((o) => o.ok).length, 79);
  const [study] = await client.qidoStudies({ modality: 'CT' });
  assert.equal(study.numberOfInstances, 79);
  assert.deepEqual(study.modalities, ['CT']);
  assert.equal(study.patientId, '123456');
  assert.deepEqual(await client.qidoStudies({ patientId: 'nobody' }), []);
  assert.equal((await client.qidoStudies({ studyDateFrom: '20060101', studyDateTo: '20060101' })).length, 1);
  assert.deepEqual(await client.qidoStudies({ studyDateFrom: '20070101' }), []);
  const [series] = await client.qidoSeries(study.studyInstanceUid, { modality: 'CT' });
  assert.equal(series.numberOfInstances, 79);
  assert.deepEqual(await client.qidoSeries(study.studyInstanceUid, { modality: 'MR' }), []);
  const instances = await client.qidoInstances(study.studyInstanceUid, series.seriesInstanceUid);
  assert.equal(new Set(instances.map((i) => i.sopInstanceUid)).size, 79, 'pages of 25: none lost or repeated');
});

test('WADO-RS series and instance: data sets identical to what was stored, dcmdump reads them', async () => {
  const [study] = await client.qidoStudies({});
  const [series] = await client.qidoSeries(study.studyInstanceUid);
  const got = await client.retrieveSeries(study.studyInstanceUid, series.seriesInstanceUid, join(dir, 'series'));
  assert.equal(got.length, 79);
  const original = new Map<string, Buffer>();
  for (const f of files) {
    const p = splitPart10(await readFile(f));
    original.set(p.sopInstanceUid, p.dataset);
  }
  for (const g of got) assert.deepEqual(splitPart10(await readFile(g.path)).dataset, original.get(g.sopInstanceUid), g.sopInstanceUid);
  const one = await client.retrieveInstance(study.studyInstanceUid, series.seriesInstanceUid, got[5].sopInstanceUid, join(dir, 'one'));
  const { stdout } = await run('dcmdump', ['+P', '0008,0018', one.path]);
  assert.ok(stdout.includes(got[5].sopInstanceUid));
  await assert.rejects(client.retrieveSeries(study.studyInstanceUid, '1.2.3.999', join(dir, 'none')), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 404);
});

test('STOW-RS with a broken instance: the good one stored, the broken one failed with FailureReason 0xC000', async () => {
  const bytes = await readFile(files[0]);
  const broken = join(dir, 'broken.dcm');
  // Meta header intact (so the client can name it), data set replaced by garbage.
  const metaEnd = bytes.length - splitPart10(bytes).dataset.length;
  await writeFile(broken, Buffer.concat([bytes.subarray(0, metaEnd)]));
  const outcomes = await client.store([files[1], broken]);
  assert.equal(outcomes[0].ok, true);
  assert.equal(outcomes[1].ok, false);
  assert.match(outcomes[1].reason ?? '', /0xC000/);
  assert.equal(outcomes[1].status, 202);
});

test('basic auth: wrong password refused with the setting to fix; data survives a restart', async () => {
  await server.close();
  server = await DicomWebServer.start({ store: await PacsIndexStore.open(join(dir, 'pacs')), auth: { username: 'u', password: 'p4ss' } });
  const wrong = new DicomWebClient({ baseUrl: server.url, username: 'u', password: 'nope' });
  await assert.rejects(wrong.qidoStudies({}), (e) => isDfaError(e, 'DICOMWEB_HTTP_ERROR') && e.details.status === 401 && /DFA_DICOMWEB_PASSWORD/.test(e.message));
  const right = new DicomWebClient({ baseUrl: server.url, username: 'u', password: 'p4ss' });
  const [study] = await right.qidoStudies({});
  assert.equal(study.numberOfInstances, 79, 'the index was reloaded from disk');
});
