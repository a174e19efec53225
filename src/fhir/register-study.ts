import type { CodeableConcept, Endpoint, HumanName, ImagingStudy, ImagingStudySeries, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { DfaError } from '../core/errors.ts';
import type { Pacs, SeriesRecord, StudyQuery, StudyRecord } from '../core/ports.ts';
import { stripUrlCredentials } from '../core/redact.ts';
import type { FhirClient } from './client.ts';
import {
  accessionIdentifier,
  cleanDicomText,
  dicomDateToFhir,
  isAccession,
  LOINC,
  modalityCoding,
  SOP_CLASS_SYSTEM,
  studyUidIdentifier,
  studyUidOf,
  studyUidSearch,
  tokenParam,
} from './dicom-fhir-ids.ts';

export interface RegisterOptions {
  /** Where the images can be fetched (R4 ImagingStudy.endpoint), e.g. a DICOMweb base URL. */
  readonly endpoint?: { readonly address: string; readonly connectionType?: 'dicom-wado-rs' | 'dicom-qido-rs' | 'dicom-stow-rs' | 'dicom-wado-uri'; readonly name?: string };
  /** Patient.identifier.system for the DICOM PatientID (DFA_FHIR_MRN_SYSTEM); unset ⇒ no system. */
  readonly mrnSystem?: string;
  readonly accessionSystem?: string;
  /** Also create the ServiceRequest (the order) and link ImagingStudy.basedOn to it. */
  readonly serviceRequest?: boolean | { readonly code?: CodeableConcept };
  /** List each series' instances (one C-FIND per series); default true. */
  readonly withInstances?: boolean;
}

export interface Registered {
  readonly imagingStudy: string;
  readonly patient: string;
  readonly serviceRequest?: string;
  readonly created: boolean;
}

const ENDPOINT_SYSTEM = 'urn:dfa:endpoint';
const ORDER_SYSTEM = 'urn:dfa:order';

/**
 * DICOM → FHIR registration, as DICOMcast does: from a study in the PACS, create or update the
 * Patient and the ImagingStudy (status registered, series, instances, modality, date, accession,
 * endpoint). Re-registering adds what is new (series, instances) and never duplicates.
 * An existing Patient (found by identifier) is linked, not overwritten: the hospital's record wins.
 */
export async function registerStudy(fhir: FhirClient, pacs: Pacs, studyUid: string, opts: RegisterOptions = {}): Promise<Registered> {
  const [study] = await pacs.findStudies({ studyInstanceUid: studyUid });
  if (!study) throw new DfaError('DICOM_OPERATION_FAILED', `study ${studyUid} not found in the PACS`, { details: { studyInstanceUid: studyUid } });
  const series = await pacs.findSeries(studyUid);
  const instances = new Map<string, Awaited<ReturnType<Pacs['findInstances']>>>();
  if (opts.withInstances ?? true) for (const s of series) instances.set(s.seriesInstanceUid, await pacs.findInstances(studyUid, s.seriesInstanceUid));

  const patient = await ensurePatient(fhir, study, opts);
  const serviceRequest = opts.serviceRequest ? await ensureServiceRequest(fhir, study, patient, opts) : undefined;
  const endpoint = opts.endpoint ? await ensureEndpoint(fhir, opts.endpoint) : undefined;

  const wanted: ImagingStudy = {
    resourceType: 'ImagingStudy',
    identifier: [studyUidIdentifier(studyUid), ...(study.accessionNumber ? [accessionIdentifier(cleanDicomText(study.accessionNumber), opts.accessionSystem)] : [])],
    status: 'registered',
    subject: { reference: patient },
    ...(dicomDateToFhir(study.studyDate) ? { started: dicomDateToFhir(study.studyDate) } : {}),
    ...(serviceRequest ? { basedOn: [{ reference: serviceRequest }] } : {}),
    ...(endpoint ? { endpoint: [{ reference: endpoint }] } : {}),
    ...(study.studyDescription ? { description: cleanDicomText(study.studyDescription) } : {}),
    series: series.map((s) => toSeries(s, instances.get(s.seriesInstanceUid))),
  };
  finishCounts(wanted, study);

  const existing = await fhir.searchOne<ImagingStudy>('ImagingStudy', { identifier: studyUidSearch(studyUid) });
  if (!existing) {
    const { resource, created } = await fhir.create(wanted, { ifNoneExist: `identifier=${studyUidSearch(studyUid)}` });
    return { imagingStudy: `ImagingStudy/${resource.id}`, patient, serviceRequest, created };
  }
  await fhir.modify<ImagingStudy>('ImagingStudy', existing.id, (cur) => merge(cur, wanted, study));
  return { imagingStudy: `ImagingStudy/${existing.id}`, patient, serviceRequest, created: false };
}

/** Registers every study the query finds; returns one result per study (errors as values). */
export async function registerStudies(
  fhir: FhirClient,
  pacs: Pacs,
  q: StudyQuery,
  opts: RegisterOptions = {},
): Promise<{ studyInstanceUid: string; result?: Registered; error?: string }[]> {
  const out: { studyInstanceUid: string; result?: Registered; error?: string }[] = [];
  for (const s of await pacs.findStudies(q)) {
    try {
      out.push({ studyInstanceUid: s.studyInstanceUid, result: await registerStudy(fhir, pacs, s.studyInstanceUid, opts) });
    } catch (e) {
      out.push({ studyInstanceUid: s.studyInstanceUid, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

function toSeries(s: SeriesRecord, instances: Awaited<ReturnType<Pacs['findInstances']>> | undefined): ImagingStudySeries {
  return {
    uid: s.seriesInstanceUid,
    ...(s.seriesNumber !== undefined ? { number: s.seriesNumber } : {}),
    modality: modalityCoding(cleanDicomText(s.modality) || 'OT'),
    ...(s.seriesDescription ? { description: cleanDicomText(s.seriesDescription) } : {}),
    ...(instances ? { numberOfInstances: instances.length } : s.numberOfInstances !== undefined ? { numberOfInstances: s.numberOfInstances } : {}),
    ...(instances?.length
      ? {
          instance: instances.map((i) => ({
            uid: i.sopInstanceUid,
            sopClass: { system: SOP_CLASS_SYSTEM, code: `urn:oid:${i.sopClassUid}` },
            ...(i.instanceNumber !== undefined ? { number: i.instanceNumber } : {}),
          })),
        }
      : {}),
  };
}

function finishCounts(s: ImagingStudy, study: StudyRecord): void {
  const series = s.series ?? [];
  s.numberOfSeries = series.length;
  const counted = series.reduce((n, x) => n + (x.numberOfInstances ?? 0), 0);
  s.numberOfInstances = counted || study.numberOfInstances || 0;
  const mods = new Set([...series.map((x) => x.modality.code ?? ''), ...study.modalities.map(cleanDicomText)].filter(Boolean));
  s.modality = [...mods].map(modalityCoding);
}

/** Adds new series/instances and missing identifiers; keeps status and anything else already there. */
function merge(cur: ImagingStudy, wanted: ImagingStudy, study: StudyRecord): ImagingStudy | undefined {
  const next: ImagingStudy = structuredClone(cur);
  let changed = false;
  const series = next.series ?? [];
  for (const w of wanted.series ?? []) {
    const have = series.find((x) => x.uid === w.uid);
    if (!have) {
      series.push(w);
      changed = true;
      continue;
    }
    for (const inst of w.instance ?? []) {
      if ((have.instance ?? []).some((i) => i.uid === inst.uid)) continue;
      have.instance = [...(have.instance ?? []), inst];
      have.numberOfInstances = have.instance.length;
      changed = true;
    }
  }
  next.series = series;
  if (!(next.identifier ?? []).some(isAccession)) {
    const acc = wanted.identifier?.find(isAccession);
    if (acc) {
      next.identifier = [...(next.identifier ?? []), acc];
      changed = true;
    }
  }
  for (const k of ['basedOn', 'endpoint', 'started'] as const) {
    if (next[k] === undefined && wanted[k] !== undefined) {
      (next as unknown as Record<string, unknown>)[k] = wanted[k];
      changed = true;
    }
  }
  if (!changed) return undefined;
  finishCounts(next, study);
  return next;
}

async function ensurePatient(fhir: FhirClient, study: StudyRecord, opts: RegisterOptions): Promise<string> {
  const id = cleanDicomText(study.patientId);
  if (!id) throw new DfaError('DICOM_OPERATION_FAILED', `study ${study.studyInstanceUid} has no PatientID`, { details: { studyInstanceUid: study.studyInstanceUid } });
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, ...(opts.mrnSystem ? { system: opts.mrnSystem } : {}), value: id }],
    ...(pnToName(study.patientName) ? { name: [pnToName(study.patientName) as HumanName] } : {}),
  };
  const search = `identifier=${tokenParam(opts.mrnSystem, id)}`;
  const { resource } = await fhir.create(patient, { ifNoneExist: search });
  return `Patient/${resource.id}`;
}

/** DICOM PN (PS3.5 6.2.1): Family^Given^Middle^Prefix^Suffix, alphabetic group only. */
function pnToName(pn: string | undefined): HumanName | undefined {
  const alpha = cleanDicomText(pn).split('=')[0] ?? '';
  const [family, given, middle, prefix, suffix] = alpha.split('^').map((x) => x.trim());
  if (!family && !given) return undefined;
  return {
    ...(family ? { family } : {}),
    ...(given || middle ? { given: [given, middle].filter((x): x is string => !!x) } : {}),
    ...(prefix ? { prefix: [prefix] } : {}),
    ...(suffix ? { suffix: [suffix] } : {}),
  };
}

async function ensureServiceRequest(fhir: FhirClient, study: StudyRecord, patient: string, opts: RegisterOptions): Promise<string> {
  const acc = cleanDicomText(study.accessionNumber);
  const identifier = acc ? accessionIdentifier(acc, opts.accessionSystem) : { system: ORDER_SYSTEM, value: study.studyInstanceUid };
  const code = typeof opts.serviceRequest === 'object' && opts.serviceRequest.code ? opts.serviceRequest.code : { coding: [{ system: LOINC, code: '24627-2', display: 'Chest CT' }] };
  const sr: ServiceRequest = { resourceType: 'ServiceRequest', identifier: [identifier], status: 'active', intent: 'order', code, subject: { reference: patient } };
  const search = `identifier=${tokenParam(identifier.system, identifier.value ?? '')}`;
  const { resource } = await fhir.create(sr, { ifNoneExist: search });
  return `ServiceRequest/${resource.id}`;
}

async function ensureEndpoint(fhir: FhirClient, given: NonNullable<RegisterOptions['endpoint']>): Promise<string> {
  // An address is written for every reader of the FHIR server: never with credentials in it.
  const ep = { ...given, address: stripUrlCredentials(given.address) };
  const e: Endpoint = {
    resourceType: 'Endpoint',
    identifier: [{ system: ENDPOINT_SYSTEM, value: ep.address }],
    status: 'active',
    name: ep.name ?? 'PACS',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: ep.connectionType ?? 'dicom-wado-rs' },
    payloadType: [{ text: 'DICOM' }],
    address: ep.address,
  };
  const { resource } = await fhir.create(e, { ifNoneExist: `identifier=${tokenParam(ENDPOINT_SYSTEM, ep.address)}` });
  return `Endpoint/${resource.id}`;
}

export { studyUidOf };
