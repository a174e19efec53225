import type { Device, DiagnosticReport, ImagingStudy, Observation, Patient, Provenance, Reference, Task } from '@medplum/fhirtypes';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ImagingFhir, JobResults, PatientQuery, PatientSummary, TaskState, WorkItem, WorkQuery, WrittenRef } from '../core/ports.ts';
import type { FhirClient, SearchParams, WithId } from './client.ts';
import { cleanDicomText, isAccession, JOB_SYSTEM, safeIdValue, tokenParam, MODEL_SYSTEM, RESULT_SYSTEM, studyUidOf, studyUidSearch } from './dicom-fhir-ids.ts';
import { assertStudyOpen, diagnosticReport, modelDevice, provenance, resultIdentifierValue, studyWithResults, volumeObservations } from './result-resources.ts';

export interface ImagingWorkflowOptions {
  /** Patient.identifier.system that holds the MRN (DFA_FHIR_MRN_SYSTEM); unset ⇒ any identifier. */
  readonly mrnSystem?: string;
  readonly log?: Logger;
  readonly now?: () => Date;
}

/**
 * The FHIR side of one imaging job, against any R4 server (the ImagingFhir port). Every write is
 * idempotent: conditional create on identifiers derived from the jobKey, and version-checked
 * (If-Match) read-modify-write for the ImagingStudy, so a re-run adds nothing.
 */
export class FhirImagingWorkflow implements ImagingFhir {
  readonly #fhir: FhirClient;
  readonly #opts: ImagingWorkflowOptions;

  constructor(fhir: FhirClient, opts: ImagingWorkflowOptions = {}) {
    this.#fhir = fhir;
    this.#opts = opts;
  }

  async findWork(q: WorkQuery): Promise<WorkItem[]> {
    const params: SearchParams = {
      status: q.status,
      modality: q.modality, // R4: matches ImagingStudy.series.modality
      bodysite: q.bodySite,
      started: [...(q.dateFrom ? [`ge${q.dateFrom}`] : []), ...(q.dateTo ? [`le${q.dateTo}`] : [])],
      identifier: q.studyInstanceUid ? studyUidSearch(q.studyInstanceUid) : undefined,
      _count: Math.min(q.limit ?? 100, 100),
    };
    const limit = q.limit ?? 10_000;
    let studies: WithId<ImagingStudy>[];
    if (q.patient) {
      // Chained search (patient.identifier=…) is optional in R4 servers: resolve the patients first.
      const subjects = q.patient.startsWith('Patient/')
        ? [q.patient]
        : (await this.#fhir.search<Patient>('Patient', { identifier: q.patient })).map((p) => `Patient/${p.id}`);
      studies = [];
      for (const subject of subjects) studies.push(...(await this.#fhir.search<ImagingStudy>('ImagingStudy', { ...params, subject }, { maxResults: limit })));
    } else {
      studies = await this.#fhir.search<ImagingStudy>('ImagingStudy', params, { maxResults: limit });
    }
    const items: WorkItem[] = [];
    const people = new Map<string, Promise<PatientSummary | undefined>>();
    const who = (ref: string) => {
      if (!people.has(ref)) people.set(ref, this.#fhir.readReference<Patient>(ref).then((p) => this.#summary(p), () => undefined));
      return people.get(ref)!;
    };
    for (const s of studies.slice(0, limit)) {
      const studyInstanceUid = studyUidOf(s);
      if (!studyInstanceUid) {
        this.#opts.log?.warn('ImagingStudy without a DICOM Study Instance UID, skipped', { imagingStudy: `ImagingStudy/${s.id}` });
        continue;
      }
      const modalities = new Set<string>();
      for (const m of s.modality ?? []) if (m.code) modalities.add(m.code);
      for (const se of s.series ?? []) if (se.modality.code) modalities.add(se.modality.code);
      items.push({
        imagingStudy: `ImagingStudy/${s.id}`,
        versionId: s.meta?.versionId,
        studyInstanceUid,
        accessionNumber: s.identifier?.find(isAccession)?.value,
        patient: s.subject.reference?.startsWith('Patient/') ? s.subject.reference : undefined,
        serviceRequest: s.basedOn?.find((r) => r.reference?.startsWith('ServiceRequest/'))?.reference,
        modalities: [...modalities],
        seriesUids: (s.series ?? []).map((se) => se.uid),
        ...(s.started ? { started: s.started } : {}),
        ...(s.description ? { description: s.description } : {}),
        series: (s.series ?? []).map((se) => ({
          uid: se.uid,
          modality: se.modality.code ?? '',
          ...(se.description ? { description: se.description } : {}),
          ...(se.numberOfInstances !== undefined ? { instances: se.numberOfInstances } : {}),
          ...(se.bodySite?.code || se.bodySite?.display ? { bodySite: se.bodySite.display ?? se.bodySite.code } : {}),
        })),
      });
    }
    // Who each study is for, read once per patient.
    return Promise.all(
      items.map(async (w) => {
        const p = w.patient ? await who(w.patient) : undefined;
        return p ? { ...w, ...(p.mrn ? { patientMrn: p.mrn } : {}), ...(p.name ? { patientName: p.name } : {}) } : w;
      }),
    );
  }

  async findPatients(q: PatientQuery): Promise<PatientSummary[]> {
    const system = this.#opts.mrnSystem;
    if (q.identifier) {
      const found = await this.#fhir.search<Patient>('Patient', { identifier: system ? `${system}|${q.identifier}` : q.identifier });
      return found.map((p) => this.#summary(p));
    }
    if (!q.name) return [];
    // FHIR string search matches by prefix, case-insensitively (R4 3.1.1.4.7): keep exact matches only.
    const [family = '', given = ''] = q.name.split('^').map((x) => x.trim());
    const params = { ...(family ? { family } : {}), ...(given ? { given } : {}) };
    const found = await this.#fhir.search<Patient>('Patient', params);
    const same = (a: string | undefined, b: string) => (a ?? '').trim().toLowerCase() === b.toLowerCase();
    return found
      .filter((p) => (p.name ?? []).some((n) => (!family || same(n.family, family)) && (!given || same(n.given?.join(' '), given) || same(n.given?.[0], given))))
      .map((p) => this.#summary(p));
  }

  #summary(p: WithId<Patient>): PatientSummary {
    const system = this.#opts.mrnSystem;
    const mrn = (p.identifier ?? []).find((i) => !system || i.system === system)?.value;
    const n = p.name?.[0];
    const name = n ? [n.family ?? '', (n.given ?? []).join(' ')].join('^').replace(/\^$/, '') : undefined;
    return { reference: `Patient/${p.id}`, ...(mrn ? { mrn } : {}), ...(name ? { name } : {}) };
  }

  async checkPatient(item: WorkItem, dicomPatientId: string): Promise<void> {
    const want = cleanDicomText(dicomPatientId);
    if (!item.patient) {
      throw new DfaError('FHIR_PATIENT_MISMATCH', `${item.imagingStudy} has no Patient subject to check DICOM PatientID against`, {
        details: { imagingStudy: item.imagingStudy },
      });
    }
    const patient = await this.#fhir.readReference<Patient>(item.patient);
    const system = this.#opts.mrnSystem;
    const candidates = (patient.identifier ?? []).filter((i) => !system || i.system === system).map((i) => cleanDicomText(i.value));
    if (want && candidates.includes(want)) return;
    throw new DfaError(
      'FHIR_PATIENT_MISMATCH',
      `DICOM PatientID '${want}' matches none of ${item.patient}'s identifiers` +
        `${system ? ` with system ${system}` : ''} (${candidates.length ? candidates.map((c) => `'${c}'`).join(', ') : 'none'}); job stopped`,
      { details: { imagingStudy: item.imagingStudy, patient: item.patient, mrnSystem: system ?? 'any' } },
    );
  }

  async ensureTask(item: WorkItem, jobKey: string): Promise<string> {
    const task: Task = {
      resourceType: 'Task',
      identifier: [{ system: JOB_SYSTEM, value: safeIdValue(jobKey) }],
      status: 'requested',
      intent: 'order',
      code: { text: 'Automatic lung contouring of a CT study' },
      focus: { reference: item.imagingStudy },
      ...(item.patient ? { for: { reference: item.patient } } : {}),
      ...(item.serviceRequest ? { basedOn: [{ reference: item.serviceRequest }] } : {}),
      authoredOn: this.#now(),
    };
    const { resource } = await this.#fhir.create(task, { ifNoneExist: `identifier=${tokenParam(JOB_SYSTEM, safeIdValue(jobKey))}` });
    return `Task/${resource.id}`;
  }

  async updateTask(task: string, status: TaskState, reason?: string): Promise<void> {
    const id = task.replace(/^Task\//, '');
    await this.#fhir.modify<Task>('Task', id, (t) => {
      // Task.statusReason says why a Task failed or waits; businessStatus says what it waits for
      // (FHIR R4 Task: on-hold = "the task has been temporarily halted").
      const why = status === 'failed' || status === 'on-hold' || status === 'rejected' ? reason ?? status : undefined;
      const business = status === 'on-hold' ? 'awaiting contour review' : undefined;
      if (t.status === status && t.statusReason?.text === why && t.businessStatus?.text === business) return undefined;
      const now = this.#now();
      const next: Task = { ...t, status, lastModified: now };
      if (why) next.statusReason = { text: why };
      else delete next.statusReason;
      if (business) next.businessStatus = { text: business };
      else delete next.businessStatus;
      // A re-run may take a failed Task back to in-progress; R4's state machine calls failed final,
      // but one Task per job (found by identifier) is what lets a client follow retries.
      if (status === 'in-progress') next.executionPeriod = t.status === 'on-hold' ? t.executionPeriod : { start: now };
      else if (status !== 'on-hold') next.executionPeriod = { ...t.executionPeriod, end: now };
      return next;
    });
  }

  async recordResults(
    item: WorkItem,
    results: JobResults,
  ): Promise<{ diagnosticReport: string; provenance: string; written: readonly WrittenRef[] }> {
    const now = this.#now();
    const written: WrittenRef[] = [];
    const keep = (r: { resourceType: string; id: string; meta?: { versionId?: string } }): Reference => {
      const reference = `${r.resourceType}/${r.id}`;
      written.push({ reference, versionId: r.meta?.versionId });
      return { reference };
    };

    // Check first that the study still takes results, so a withdrawn one gets no report at all.
    const studyId = item.imagingStudy.replace(/^ImagingStudy\//, '');
    assertStudyOpen(await this.#fhir.read<ImagingStudy>('ImagingStudy', studyId));

    const dev = modelDevice(results.model);
    const device = (await this.#fhir.create<Device>(dev, { ifNoneExist: `identifier=${tokenParam(MODEL_SYSTEM, dev.identifier?.[0]?.value ?? '')}` })).resource;
    const deviceRef: Reference = { reference: `Device/${device.id}`, display: `${results.model.name} ${results.model.version}` };

    const observations: Reference[] = [];
    for (const o of volumeObservations(item, results, deviceRef, now)) {
      const r = await this.#fhir.create<Observation>(o, { ifNoneExist: `identifier=${tokenParam(RESULT_SYSTEM, o.identifier?.[0]?.value ?? '')}` });
      observations.push(keep(r.resource));
    }

    const reportId = resultIdentifierValue(results.jobKey, 'report');
    const report = (
      await this.#fhir.create<DiagnosticReport>(diagnosticReport(item, results, observations, now), { ifNoneExist: `identifier=${tokenParam(RESULT_SYSTEM, reportId)}` })
    ).resource;
    const reportRef = keep(report);

    const study = await this.#fhir.modify<ImagingStudy>('ImagingStudy', studyId, (s) => studyWithResults(s, results));
    const studyRef = keep(study);

    // Provenance has no identifier in R4: the conditional create keys on the report it targets.
    const prov = (
      await this.#fhir.create<Provenance>(provenance(item, [reportRef, ...observations, versioned(studyRef, study.meta?.versionId)], deviceRef, now, results.reviewer), {
        ifNoneExist: `target=${reportRef.reference}`,
      })
    ).resource;
    keep(prov);
    return { diagnosticReport: reportRef.reference ?? '', provenance: `Provenance/${prov.id}`, written };
  }

  #now(): string {
    return (this.#opts.now?.() ?? new Date()).toISOString();
  }
}

/** Provenance.target should point at the version written (R4 Provenance notes). */
function versioned(ref: Reference, versionId: string | undefined): Reference {
  return versionId ? { reference: `${ref.reference}/_history/${versionId}` } : ref;
}
