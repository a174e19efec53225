/**
 * In-memory fakes of the ports, for unit-testing the job logic (our own code) without a PACS or a
 * FHIR server. The world's state can live in a JSON file written synchronously after each change, so
 * a worker process killed with SIGKILL and restarted sees what it had done (crash-resume test).
 * Every call is logged ("<method> <study>") so tests can count how often each step ran.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError } from '../../src/core/errors.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { SCT_ANATOMICAL_STRUCTURE, type ModelManifest } from '../../src/core/model.ts';
import type { ImagingFhir, Pacs, SegmentationOutcome, WorkItem } from '../../src/core/ports.ts';
import type { Volume } from '../../src/core/volume.ts';
import type { JobDeps, WriterInput, WrittenDicom } from '../../src/agent/jobs/deps.ts';
import { deterministicUid } from '../../src/core/uid.ts';
import { LocalArtifactStore } from '../../src/storage/local-artifacts.ts';
import { planKey, type Plan } from '../../src/agent/plan.ts';

export interface FakeStudy {
  readonly uid: string;
  readonly modality: 'CT' | 'MR';
  readonly patientId: string;
  /** The DICOM PatientID in the images (default patientId): differ ⇒ patient mismatch. */
  readonly dicomPatientId?: string;
  /** loadVolume fails (a broken series). */
  readonly broken?: boolean;
}

export interface FakeWorldState {
  studies: FakeStudy[];
  imagingStudyStatus: Record<string, string>; // by study uid
  tasks: Record<string, { id: string; status: string; reason?: string; history: string[] }>; // by job key
  reports: Record<string, { id: string; creates: number }>; // by job key; creates stays 1 (conditional create)
  stored: Record<string, { study: string; series: string; count: number }>; // by SOP uid
  calls: string[];
}

export interface FakeOptions {
  readonly root: string; // scratch dir: artifacts + state file
  readonly studies: readonly FakeStudy[];
  /** Persist the state to root/world.json (for child processes). */
  readonly persist?: boolean;
  /** Transient faults: method → how many calls fail before it works. */
  readonly faults?: Partial<Record<'retrieve' | 'store' | 'recordResults' | 'findSeries', number>>;
  /** Segmenters whose QC fails. */
  readonly qcFails?: readonly string[];
  /** Segmenters that find no lung at all (QC noLung). */
  readonly noLung?: readonly string[];
  /** Coverage the QC reports (default: both lungs complete). */
  readonly coverage?: Readonly<Record<string, 'complete' | 'partial'>>;
  /** A step that hangs forever after logging "hang <step>" (the test kills the process there). */
  readonly hangAt?: 'segment' | 'recordResults' | 'store';
  /** State file name under root (default world.json); one per process when several share root. */
  readonly stateName?: string;
  /** Appended to each calls.log line as " @<who>" (which process did it). */
  readonly who?: string;
  /** segment waits until calls.log shows this many segment calls (in any process). */
  readonly barrier?: number;
}

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const MR_IMAGE = '1.2.840.10008.5.1.4.1.1.4';

export function lungManifest(name: string): ModelManifest {
  return {
    name,
    version: '1.0.0',
    kind: 'classical',
    modality: 'CT',
    bodyPart: 'CHEST',
    labels: [
      { value: 1, roiName: 'Lung_L', color: [0, 255, 0], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
      { value: 2, roiName: 'Lung_R', color: [0, 0, 255], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
    ],
  };
}

export function lungPlan(over: Partial<Plan> = {}): Plan {
  return {
    goal: 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS',
    selection: { status: 'registered', modality: 'CT' },
    pipeline: { task: 'segmentation', structures: ['Lung_L', 'Lung_R'], segmenter: 'classical', fallbackSegmenter: 'onnx', segmenterNamed: false },
    outputs: { rtstruct: true, seg: false, fhirReport: true },
    store: { method: 'default' },
    review: 'on-qc-fail',
    rerun: false,
    understood: [],
    ...over,
  };
}

export class FakeWorld {
  readonly opts: FakeOptions;
  readonly file: string;
  state: FakeWorldState;
  private faultsLeft: Record<string, number>;

  constructor(opts: FakeOptions) {
    this.opts = opts;
    this.file = join(opts.root, opts.stateName ?? 'world.json');
    this.faultsLeft = { ...opts.faults };
    if (opts.persist && existsSync(this.file)) {
      this.state = JSON.parse(readFileSync(this.file, 'utf8')) as FakeWorldState;
    } else {
      this.state = {
        studies: [...opts.studies],
        imagingStudyStatus: Object.fromEntries(opts.studies.map((s) => [s.uid, 'registered'])),
        tasks: {},
        reports: {},
        stored: {},
        calls: [],
      };
      this.save();
    }
  }

  private save(): void {
    if (this.opts.persist) writeFileSync(this.file, JSON.stringify(this.state));
  }

  private call(what: string): void {
    this.state.calls.push(what);
    this.save();
    if (this.opts.persist) appendFileSync(join(this.opts.root, 'calls.log'), what + (this.opts.who ? ` @${this.opts.who}` : '') + '\n');
  }

  count(prefix: string): number {
    return this.state.calls.filter((c) => c === prefix || c.startsWith(prefix + ' ')).length;
  }

  private fault(method: string): void {
    if ((this.faultsLeft[method] ?? 0) > 0) {
      this.faultsLeft[method]--;
      throw new DfaError(method === 'recordResults' ? 'FHIR_UNAVAILABLE' : 'DICOM_CONNECTION_FAILED', `injected fault in ${method}`);
    }
  }

  private async hang(step: string): Promise<void> {
    if (this.opts.hangAt !== step) return;
    this.call(`hang ${step}`);
    await new Promise(() => undefined); // the test kills us here
  }

  /** Several processes meet here: proof that they run jobs side by side. */
  private async barrier(): Promise<void> {
    const n = this.opts.barrier;
    if (!n) return;
    for (;;) {
      const log = await readFile(join(this.opts.root, 'calls.log'), 'utf8').catch(() => '');
      if (log.split('\n').filter((l) => l.startsWith('segment ')).length >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private study(uid: string): FakeStudy {
    const s = this.state.studies.find((x) => x.uid === uid);
    if (!s) throw new DfaError('INTERNAL', `fake: no study ${uid}`);
    return s;
  }

  item(s: FakeStudy): WorkItem {
    return { imagingStudy: `ImagingStudy/is-${s.uid}`, studyInstanceUid: s.uid, patient: `Patient/${s.patientId}`, modalities: [s.modality], seriesUids: [`${s.uid}.1`], patientMrn: s.patientId };
  }

  pacs(): Pacs {
    return {
      echo: async () => undefined,
      findStudies: async () => [],
      findSeries: async (study) => {
        this.fault('findSeries');
        const s = this.state.studies.find((x) => x.uid === study);
        if (!s) return [];
        const ours = Object.values(this.state.stored).filter((o) => o.study === study).map((o) => ({ studyInstanceUid: study, seriesInstanceUid: o.series, modality: 'RTSTRUCT' }));
        return [{ studyInstanceUid: study, seriesInstanceUid: `${study}.1`, modality: s.modality }, ...ours];
      },
      findInstances: async (study, series) =>
        Object.entries(this.state.stored)
          .filter(([, o]) => o.study === study && o.series === series)
          .map(([sop]) => ({ studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop, sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3' })),
      retrieve: async (req, dest) => {
        this.call(`retrieve ${req.studyInstanceUid}`);
        this.fault('retrieve');
        const s = this.study(req.studyInstanceUid);
        const instances = [];
        for (let k = 0; k < 2; k++) {
          const path = join(dest, `${k}.dcm`);
          await writeFile(path, JSON.stringify({ study: s.uid, k }));
          instances.push({ path, studyInstanceUid: s.uid, seriesInstanceUid: `${s.uid}.1`, sopInstanceUid: `${s.uid}.1.${k}`, sopClassUid: s.modality === 'CT' ? CT_IMAGE : MR_IMAGE });
        }
        return { method: 'c-get', instances, attempts: [{ method: 'c-get', ok: true, ms: 1 }] };
      },
      store: async (files) => {
        await this.hang('store');
        this.fault('store');
        const out = [];
        for (const f of files) {
          const o = JSON.parse(await readFile(f, 'utf8')) as { study: string; series: string; sop: string };
          this.call(`store ${o.study}`);
          const prev = this.state.stored[o.sop];
          this.state.stored[o.sop] = { study: o.study, series: o.series, count: (prev?.count ?? 0) + 1 };
          this.save();
          out.push({ sopInstanceUid: o.sop, ok: true, status: 0 });
        }
        return out;
      },
      close: async () => undefined,
    };
  }

  fhir(): ImagingFhir {
    return {
      findWork: async (q) =>
        this.state.studies
          .filter((s) => !q.status || q.status.split(',').includes(this.state.imagingStudyStatus[s.uid]))
          .filter((s) => !q.studyInstanceUid || s.uid === q.studyInstanceUid)
          // Like a server whose ImagingStudy has no modality: the job must notice the MR itself.
          .map((s) => this.item(s)),
      findPatients: async () => [],
      checkPatient: async (item, dicomPatientId) => {
        const s = this.study(item.studyInstanceUid);
        if (s.patientId !== dicomPatientId) throw new DfaError('FHIR_PATIENT_MISMATCH', `DICOM PatientID ${dicomPatientId} is not ${item.patient}`);
      },
      ensureTask: async (item, key) => {
        this.call(`ensureTask ${item.studyInstanceUid}`);
        const t = (this.state.tasks[key] ??= { id: `Task/t${Object.keys(this.state.tasks).length + 1}`, status: 'requested', history: [] });
        this.save();
        return t.id;
      },
      updateTask: async (task, status, reason) => {
        const t = Object.values(this.state.tasks).find((x) => x.id === task);
        if (!t) throw new DfaError('FHIR_HTTP_ERROR', `no ${task}`);
        this.call(`updateTask ${status}`);
        t.status = status;
        t.reason = reason;
        t.history.push(status);
        this.save();
      },
      recordResults: async (item, results) => {
        this.call(`recordResults ${item.studyInstanceUid}`);
        this.fault('recordResults');
        // Conditional create (FHIR R4 3.1.0.8.1, If-None-Exist on the job identifier): a second call finds it.
        const r = (this.state.reports[results.jobKey] ??= { id: `DiagnosticReport/r-${item.studyInstanceUid}`, creates: 0 });
        if (r.creates === 0) r.creates = 1;
        this.state.imagingStudyStatus[item.studyInstanceUid] = 'available';
        this.save();
        await this.hang('recordResults');
        return { diagnosticReport: r.id, provenance: `Provenance/p-${item.studyInstanceUid}`, written: [{ reference: r.id, versionId: '1' }] };
      },
    };
  }

  deps(): JobDeps {
    const artifacts = new LocalArtifactStore(join(this.opts.root, 'artifacts'));
    return {
      pacs: this.pacs(),
      fhir: this.fhir(),
      artifacts,
      log: memoryLogger('warn'),
      loadVolume: async (files) => {
        const first = JSON.parse(await readFile(files[0], 'utf8')) as { study: string };
        const s = this.study(first.study);
        this.call(`loadVolume ${s.uid}`);
        if (s.broken) throw new DfaError('DICOM_INCONSISTENT_SERIES', 'slices have different sizes (512x512 and 256x256)');
        return fakeVolume(s);
      },
      segment: async (v, name) => {
        this.call(`segment ${v.meta.studyInstanceUid} ${name}`);
        await this.hang('segment');
        await this.barrier();
        const labels = { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: new Uint8Array(v.data.length).fill(1) };
        const noLung = (this.opts.noLung ?? []).includes(name);
        const ok = !noLung && !(this.opts.qcFails ?? []).includes(name);
        const coverage = this.opts.coverage ?? { Lung_L: 'complete', Lung_R: 'complete' };
        const out: SegmentationOutcome = {
          labels,
          manifest: lungManifest(name),
          qc: noLung
            ? { ok: false, noLung: true, coverage: {}, checks: [{ name: 'lung-present', ok: false, value: 0, expected: '≥ 5 mL' }] }
            : { ok, coverage, limits: { population: 'adult', basis: 'age unknown: adult limits' }, checks: [{ name: 'lung volume', ok, value: ok ? 4200 : 12, expected: '2000..8000 mL' }] },
          volumesMl: noLung ? { Lung_L: 0, Lung_R: 0 } : { Lung_L: 2000, Lung_R: 2200 },
        };
        return out;
      },
      writeRtstruct: async (input) => {
        this.call(`writeRtstruct ${input.volume.meta.studyInstanceUid}`);
        return fakeObject(input, 'RTSTRUCT');
      },
      writeSeg: async (input) => fakeObject(input, 'SEG'),
    };
  }
}

/** A stand-in Part 10 object: JSON naming its UIDs, derived like the real writers' (deterministic). */
function fakeObject(input: WriterInput, kind: string): WrittenDicom {
  const src = input.volume.meta.seriesInstanceUid;
  const uids = {
    seriesInstanceUid: deterministicUid(src, input.manifest.name, input.manifest.version, kind),
    sopInstanceUid: deterministicUid(src, input.manifest.name, input.manifest.version, kind, 'instance'),
  };
  const part10 = new TextEncoder().encode(JSON.stringify({ study: input.volume.meta.studyInstanceUid, series: uids.seriesInstanceUid, sop: uids.sopInstanceUid }));
  return { part10, ...uids };
}

function fakeVolume(s: FakeStudy): Volume {
  return {
    dims: [4, 4, 2],
    spacing: [1, 1, 2],
    origin: [0, 0, 0],
    direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    data: new Int16Array(32).fill(-800),
    meta: {
      studyInstanceUid: s.uid,
      seriesInstanceUid: `${s.uid}.1`,
      frameOfReferenceUid: `${s.uid}.9`,
      modality: s.modality,
      patientId: s.dicomPatientId ?? s.patientId,
      patientName: 'Test^Patient',
      slices: [0, 1].map((k) => ({ sopInstanceUid: `${s.uid}.1.${k}`, sopClassUid: CT_IMAGE, position: [0, 0, 2 * k] as const })),
    },
  };
}

/** Job key of a study under a plan (what the audit table and FHIR Task identifier use). */
export function keyOf(plan: Plan, study: string): string {
  return `${planKey(plan)}:${study}`;
}
