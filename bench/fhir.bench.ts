/**
 * `npm run bench:fhir` — FHIR figures against the embedded dev server (loopback HTTP, in process):
 *   - find 1,000 registered CT studies across pages (findWork, 100 per page; and 20 per page),
 *   - record the results of one job (all writes: Device, Observations, DiagnosticReport,
 *     ImagingStudy If-Match update, Provenance), and the idempotent re-run of the same,
 *   - the Task lifecycle of one job (ensureTask + in-progress + completed).
 * Each figure is the median of BENCH_RUNS (default 5) runs after one warm-up. Prints a markdown table.
 *
 *   npm run bench:fhir
 *   BENCH_RUNS=9 BENCH_STUDIES=2000 npm run bench:fhir
 */
import { cpus } from 'node:os';
import type { Bundle, ImagingStudy } from '@medplum/fhirtypes';
import { SCT_ANATOMICAL_STRUCTURE, type LabelInfo } from '../src/core/model.ts';
import type { JobResults, WorkItem } from '../src/core/ports.ts';
import { FhirClient } from '../src/fhir/client.ts';
import { startFhirServer } from '../src/fhir/dev-server/server.ts';
import { modalityCoding, studyUidIdentifier } from '../src/fhir/dicom-fhir-ids.ts';
import { FhirImagingWorkflow } from '../src/fhir/imaging-workflow.ts';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const STUDIES = Math.max(1, Number(process.env.BENCH_STUDIES ?? 1000));

const labels: LabelInfo[] = [
  { value: 1, roiName: 'Lung_L', color: [0, 0, 255], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  { value: 2, roiName: 'Lung_R', color: [255, 0, 0], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
];

function study(i: number, patient: string): ImagingStudy {
  const uid = `1.2.826.0.1.3680043.8.498.9${i}`;
  return {
    resourceType: 'ImagingStudy',
    identifier: [studyUidIdentifier(uid)],
    status: 'registered',
    subject: { reference: patient },
    started: '2024-03-01',
    modality: [modalityCoding('CT')],
    series: [{ uid: `${uid}.1`, modality: modalityCoding('CT'), numberOfInstances: 300 }],
  };
}

async function median(label: string, fn: (run: number) => Promise<unknown>): Promise<{ label: string; ms: number; min: number; max: number }> {
  await fn(-1); // warm-up
  const t: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await fn(r);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { label, ms: t[Math.floor(t.length / 2)] ?? 0, min: t[0] ?? 0, max: t[t.length - 1] ?? 0 };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const server = await startFhirServer();
  const startMs = performance.now() - t0;
  const fhir = new FhirClient({ baseUrl: server.url });
  const wf = new FhirImagingWorkflow(fhir);
  try {
    const { resource: patient } = await fhir.create({ resourceType: 'Patient', identifier: [{ value: 'BENCH-1' }] });
    const seed0 = performance.now();
    for (let i = 0; i < STUDIES; i += 100) {
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: Array.from({ length: Math.min(100, STUDIES - i) }, (_, k) => ({ resource: study(i + k, `Patient/${patient.id}`), request: { method: 'POST' as const, url: 'ImagingStudy' } })),
      };
      await fhir.transaction(bundle);
    }
    const seedMs = performance.now() - seed0;

    const rows = [];
    let found = 0;
    rows.push(
      await median(`findWork: ${STUDIES} registered CT studies, 100/page (${Math.ceil(STUDIES / 100)} pages)`, async () => {
        found = (await wf.findWork({ status: 'registered', modality: 'CT' })).length;
      }),
    );
    if (found !== STUDIES) throw new Error(`findWork found ${found}, expected ${STUDIES}`);
    rows.push(
      await median(`search: same, 20/page (${Math.ceil(STUDIES / 20)} pages)`, async () => {
        const n = (await fhir.search('ImagingStudy', { status: 'registered', modality: 'CT', _count: 20 })).length;
        if (n !== STUDIES) throw new Error(`search found ${n}`);
      }),
    );

    const work = await wf.findWork({ status: 'registered', modality: 'CT', limit: RUNS * 2 + 4 });
    let next = 0;
    const resultsFor = (w: WorkItem): JobResults => ({
      jobKey: `bench:${w.studyInstanceUid}`,
      rtstruct: { seriesInstanceUid: `2.25.1${next}`, sopInstanceUid: `2.25.2${next}` },
      seg: { seriesInstanceUid: `2.25.3${next}`, sopInstanceUid: `2.25.4${next}` },
      sourceSeriesInstanceUid: w.seriesUids[0] ?? '',
      volumesMl: { Lung_L: 2400, Lung_R: 2700 },
      labels,
      model: { name: 'classical-lung', version: '1.0.0' },
    });
    let last: WorkItem | undefined;
    let writes = 0;
    rows.push(
      await median('recordResults: one job, all writes (Device, 3 Observations, report, study If-Match, Provenance)', async () => {
        const w = work[next++]!;
        last = w;
        writes = (await wf.recordResults(w, resultsFor(w))).written.length;
      }),
    );
    rows.push(
      await median('recordResults re-run: same job again (idempotent, nothing written)', async () => {
        await wf.recordResults(last!, resultsFor(last!));
      }),
    );
    rows.push(
      await median('Task lifecycle: ensureTask + in-progress + completed', async () => {
        const w = work[next++]!;
        const t = await wf.ensureTask(w, `bench-task:${w.studyInstanceUid}`);
        await wf.updateTask(t, 'in-progress');
        await wf.updateTask(t, 'completed');
      }),
    );

    const out: string[] = [];
    out.push(`FHIR benchmark — embedded dev server (Medplum FhirRouter + MemoryRepository over node:http, loopback), Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model ?? '?'})`);
    out.push(`server start ${startMs.toFixed(0)} ms (R4 definitions); seeded ${STUDIES} ImagingStudy in batches of 100 in ${seedMs.toFixed(0)} ms; median of ${RUNS} runs after 1 warm-up; one job writes ${writes} resources`);
    out.push('');
    out.push('| operation | median ms | min ms | max ms |');
    out.push('|---|---:|---:|---:|');
    for (const r of rows) out.push(`| ${r.label} | ${r.ms.toFixed(1)} | ${r.min.toFixed(1)} | ${r.max.toFixed(1)} |`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await server.stop();
  }
}

await main();
