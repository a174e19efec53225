/**
 * The ImagingFhir port's contract (the workflow the jobs rely on) for every implementation: the
 * FhirImagingWorkflow in process and the fhir_handler over HTTP (src/remote/fhir.ts), each against
 * the embedded FHIR server over HTTP. Studies are seeded through registerStudy from a PACS stand-in
 * (the PACS itself is not under test here); what was written is checked with a plain FhirClient.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { validateResource } from '@medplum/core';
import type { DiagnosticReport, ImagingStudy, Observation, Resource, ResourceType, Task } from '@medplum/fhirtypes';
import { isDfaError } from '../../src/core/errors.ts';
import { SCT_ANATOMICAL_STRUCTURE, type LabelInfo } from '../../src/core/model.ts';
import type { ImagingFhir, JobResults, WorkItem } from '../../src/core/ports.ts';
import type { FhirClient } from '../../src/fhir/client.ts';
import { registerStudy } from '../../src/fhir/register-study.ts';
import { FakePacs, fakeStudy } from '../support/fake-pacs.ts';

export interface ImagingFhirFixture {
  /** A plain client on the same FHIR server: seeds studies and checks what the port wrote. */
  readonly fhir: FhirClient;
  /** The port under test. */
  readonly workflow: ImagingFhir;
  /** The port with DFA_FHIR_MRN_SYSTEM=urn:hospital:mrn. */
  strict(): ImagingFhir | Promise<ImagingFhir>;
  close(): Promise<void>;
}

const labels: LabelInfo[] = [
  { value: 1, roiName: 'Lung_L', color: [0, 0, 255], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  { value: 2, roiName: 'Lung_R', color: [255, 0, 0], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  { value: 3, roiName: 'Trachea', color: [0, 255, 0], concept: { scheme: 'SCT', code: '44567001', meaning: 'Trachea' }, category: SCT_ANATOMICAL_STRUCTURE },
];
/** A key image larger than a service's default 64 KiB JSON body (bytes after the PNG signature do not matter to FHIR). */
const keyImagePng = new Uint8Array(96 * 1024).map((_, i) => (i < 8 ? [137, 80, 78, 71, 13, 10, 26, 10][i]! : (i * 31) & 0xff));
const results = (item: WorkItem): JobResults => ({
  jobKey: `job:${item.studyInstanceUid}:classical@1.0`,
  rtstruct: { seriesInstanceUid: '2.25.111', sopInstanceUid: '2.25.112' },
  seg: { seriesInstanceUid: '2.25.121', sopInstanceUid: '2.25.122' },
  sourceSeriesInstanceUid: item.seriesUids[0] ?? '',
  volumesMl: { Lung_L: 2400.44, Lung_R: 2700.06, Trachea: 30 },
  labels,
  model: { name: 'classical-lung', version: '1.0.0' },
  keyImage: { title: 'key image: contours by classical-lung 1.0.0', png: keyImagePng },
});

export function imagingFhirContract(name: string, setup: () => Promise<ImagingFhirFixture>): void {
  describe(`ImagingFhir contract: ${name}`, () => {
    let fx: ImagingFhirFixture;
    let fhir: FhirClient;
    let wf: ImagingFhir;
    const pacs = new FakePacs([
      fakeStudy('1.2.826.0.1.3680043.8.498.1', 'PID-1', 'CT', { accession: 'ACC1', date: '20240105' }),
      fakeStudy('1.2.826.0.1.3680043.8.498.2', 'PID-2', 'CT', { accession: 'ACC2', date: '20240210' }),
      fakeStudy('1.2.826.0.1.3680043.8.498.3', 'PID-3', 'MR', { date: '20240110' }),
    ]);

    before(async () => {
      fx = await setup();
      fhir = fx.fhir;
      wf = fx.workflow;
      for (const s of pacs.studies) await registerStudy(fhir, pacs, s.studyInstanceUid, { serviceRequest: true, endpoint: { address: 'http://pacs.example/dicom-web' } });
    });
    after(async () => {
      await fx?.close();
    });

    const count = async (type: ResourceType) => (await fhir.search(type, { _count: 100 })).length;
    function assertValid(r: Resource): void {
      assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id} validates against R4`);
    }

    test('registration: Patient, ImagingStudy (registered, series, instances, accession, endpoint), ServiceRequest', async () => {
      const [s] = await fhir.search<ImagingStudy>('ImagingStudy', { identifier: 'urn:dicom:uid|urn:oid:1.2.826.0.1.3680043.8.498.1' });
      assert.ok(s);
      assert.equal(s.status, 'registered');
      assert.equal(s.started, '2024-01-05');
      assert.equal(s.series?.length, 2);
      assert.equal(s.series?.[0]?.instance?.length, 3);
      assert.equal(s.numberOfInstances, 5);
      assert.ok(s.identifier?.some((i) => i.value === 'ACC1' && i.type?.coding?.[0]?.code === 'ACSN'));
      assert.match(s.endpoint?.[0]?.reference ?? '', /^Endpoint\//);
      assert.match(s.basedOn?.[0]?.reference ?? '', /^ServiceRequest\//);
      for (const type of ['ImagingStudy', 'Patient', 'ServiceRequest', 'Endpoint'] as const) for (const r of await fhir.search(type)) assertValid(r);
    });

    test('registration is idempotent and adds new series on a re-run', async () => {
      const before = await Promise.all((['Patient', 'ImagingStudy', 'ServiceRequest', 'Endpoint'] as const).map(count));
      const uid = '1.2.826.0.1.3680043.8.498.2';
      await registerStudy(fhir, pacs, uid, { serviceRequest: true, endpoint: { address: 'http://pacs.example/dicom-web' } });
      assert.deepEqual(await Promise.all((['Patient', 'ImagingStudy', 'ServiceRequest', 'Endpoint'] as const).map(count)), before);
      pacs.addSeries(uid, '1.2.826.0.1.3680043.8.498.2.9', 'CT', 2);
      const r = await registerStudy(fhir, pacs, uid);
      assert.equal(r.created, false);
      const s = await fhir.readReference<ImagingStudy>(r.imagingStudy);
      assert.equal(s.series?.length, 3);
      assert.equal(s.numberOfInstances, 7);
    });

    test('findWork: registered CT studies with accession, patient, ServiceRequest; MR excluded', async () => {
      const work = await wf.findWork({ status: 'registered', modality: 'CT' });
      assert.deepEqual(work.map((w) => w.studyInstanceUid).sort(), ['1.2.826.0.1.3680043.8.498.1', '1.2.826.0.1.3680043.8.498.2']);
      const w = work.find((x) => x.studyInstanceUid.endsWith('.1'))!;
      assert.equal(w.accessionNumber, 'ACC1');
      assert.match(w.patient ?? '', /^Patient\//);
      assert.match(w.serviceRequest ?? '', /^ServiceRequest\//);
      assert.deepEqual(w.modalities, ['CT']);
      assert.equal(w.seriesUids.length, 2);
    });

    test('findWork filters: date range, patient identifier, study UID (urn:oid and bare), limit', async () => {
      assert.deepEqual((await wf.findWork({ status: 'registered', dateFrom: '2024-02-01' })).map((w) => w.accessionNumber), ['ACC2']);
      assert.equal((await wf.findWork({ status: 'registered', dateTo: '2024-01-31' })).length, 2);
      assert.deepEqual((await wf.findWork({ status: 'registered', patient: 'PID-3' })).map((w) => w.modalities), [['MR']]);
      assert.equal((await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.2' })).length, 1);
      const bare = await fhir.create<ImagingStudy>({
        resourceType: 'ImagingStudy',
        status: 'registered',
        subject: { reference: (await wf.findWork({ status: 'registered', patient: 'PID-1' }))[0]!.patient! },
        identifier: [{ system: 'urn:dicom:uid', value: '1.2.826.0.1.3680043.8.498.77' }],
      });
      const found = await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.77' });
      assert.deepEqual(found.map((w) => w.imagingStudy), [`ImagingStudy/${bare.resource.id}`]);
      assert.equal(found[0]?.studyInstanceUid, '1.2.826.0.1.3680043.8.498.77');
      assert.equal((await wf.findWork({ status: 'registered', limit: 1 })).length, 1);
    });

    test('checkPatient: padded DICOM PatientID matches; a different one stops the job', async () => {
      const [w] = await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.1' });
      await wf.checkPatient(w!, 'PID-1 \0');
      await assert.rejects(
        () => wf.checkPatient(w!, 'PID-2'),
        (e) => isDfaError(e, 'FHIR_PATIENT_MISMATCH') && /PID-2/.test(e.message) && /PID-1/.test(e.message),
      );
      const strict = await fx.strict();
      await assert.rejects(() => strict.checkPatient(w!, 'PID-1'), (e) => isDfaError(e, 'FHIR_PATIENT_MISMATCH') && /urn:hospital:mrn/.test(e.message));
    });

    test('Task: one per jobKey, requested → in-progress → failed (reason) → completed', async () => {
      const [w] = await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.2' });
      const t1 = await wf.ensureTask(w!, 'job,with|odd$chars');
      const t2 = await wf.ensureTask(w!, 'job,with|odd$chars');
      assert.equal(t1, t2);
      const other = await wf.ensureTask(w!, 'job');
      assert.notEqual(other, t1);
      let t = await fhir.readReference<Task>(t1);
      assert.equal(t.status, 'requested');
      assert.equal(t.focus?.reference, w!.imagingStudy);
      await wf.updateTask(t1, 'in-progress');
      await wf.updateTask(t1, 'failed', 'PACS unreachable');
      t = await fhir.readReference<Task>(t1);
      assert.equal(t.status, 'failed');
      assert.equal(t.statusReason?.text, 'PACS unreachable');
      await wf.updateTask(t1, 'completed');
      t = await fhir.readReference<Task>(t1);
      assert.equal(t.status, 'completed');
      assert.equal(t.statusReason, undefined);
      assertValid(t);
    });

    test('recordResults writes report, volumes, provenance and study update; a re-run adds nothing', async () => {
      const [w] = await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.1' });
      const r1 = await wf.recordResults(w!, results(w!));
      const counts = await Promise.all((['Observation', 'DiagnosticReport', 'Provenance', 'Device'] as const).map(count));
      const study1 = await fhir.readReference<ImagingStudy>(w!.imagingStudy);
      const r2 = await wf.recordResults(w!, results(w!));
      assert.deepEqual(await Promise.all((['Observation', 'DiagnosticReport', 'Provenance', 'Device'] as const).map(count)), counts);
      assert.equal(r2.diagnosticReport, r1.diagnosticReport);
      assert.equal(r2.provenance, r1.provenance);
      const study2 = await fhir.readReference<ImagingStudy>(w!.imagingStudy);
      assert.equal(study2.meta?.versionId, study1.meta?.versionId, 'no second ImagingStudy write');

      assert.equal(study2.status, 'available');
      const mods = study2.series?.map((s) => s.modality.code);
      assert.deepEqual(mods, ['CT', 'CT', 'RTSTRUCT', 'SEG']);
      assert.equal(study2.series?.[2]?.instance?.[0]?.uid, '2.25.112');

      const report = await fhir.readReference<DiagnosticReport>(r1.diagnosticReport);
      assert.equal(report.status, 'final');
      assert.equal(report.presentedForm?.[0]?.contentType, 'image/png');
      assert.equal(report.presentedForm?.[0]?.data, Buffer.from(keyImagePng).toString('base64'), 'the key image, whole');
      assert.equal(report.code.coding?.[0]?.code, '24627-2');
      assert.equal(report.basedOn?.[0]?.reference, w!.serviceRequest);
      assert.equal(report.imagingStudy?.[0]?.reference, w!.imagingStudy);
      assert.equal(report.result?.length, 4);
      const obs = await Promise.all((report.result ?? []).map((r) => fhir.readReference<Observation>(r.reference!)));
      assert.deepEqual(
        obs.map((o) => [o.code.text, o.valueQuantity?.value, o.valueQuantity?.code, o.valueQuantity?.system]),
        [
          ['Lung_L volume', 2400.4, 'mL', 'http://unitsofmeasure.org'],
          ['Lung_R volume', 2700.1, 'mL', 'http://unitsofmeasure.org'],
          ['Trachea volume', 30, 'mL', 'http://unitsofmeasure.org'],
          ['Total volume (Lung_L + Lung_R + Trachea)', 5130.5, 'mL', 'http://unitsofmeasure.org'],
        ],
      );
      assert.equal(obs[2]?.bodySite?.coding?.[0]?.code, '44567001');

      const prov = await fhir.readReference<Resource & { target: { reference?: string }[]; agent: { who: { reference?: string } }[]; entity?: { what: { reference?: string } }[] }>(r1.provenance);
      assert.ok(prov.target.some((t) => t.reference === r1.diagnosticReport));
      assert.ok(prov.target.some((t) => t.reference?.startsWith(`${w!.imagingStudy}/_history/`)));
      assert.match(prov.agent[0]?.who.reference ?? '', /^Device\//);
      assert.equal(prov.entity?.[0]?.what.reference, w!.imagingStudy);
      for (const ref of r1.written.map((x) => x.reference)) assertValid(await fhir.readReference(ref));
      assert.deepEqual((await wf.findWork({ status: 'registered', modality: 'CT' })).map((x) => x.studyInstanceUid), ['1.2.826.0.1.3680043.8.498.2']);
    });

    test('recordResults refuses to revive a study that was cancelled meanwhile', async () => {
      const [w] = await wf.findWork({ status: 'registered', studyInstanceUid: '1.2.826.0.1.3680043.8.498.2' });
      const s = await fhir.readReference<ImagingStudy>(w!.imagingStudy);
      await fhir.update({ ...s, status: 'cancelled' }, { ifMatch: s.meta?.versionId });
      await assert.rejects(() => wf.recordResults(w!, results(w!)), (e) => isDfaError(e, 'FHIR_CONFLICT') && /cancelled/.test(e.message));
      assert.equal((await fhir.readReference<ImagingStudy>(w!.imagingStudy)).status, 'cancelled');
      assert.equal((await fhir.search('DiagnosticReport', { 'imaging-study': w!.imagingStudy })).length, 0, 'no report written');
    });
  });
}
