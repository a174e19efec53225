import { z } from 'zod';
import type { DfaError } from '../core/errors.ts';
import type { ImagingFhir, JobResults } from '../core/ports.ts';
import { defineRoute } from './route.ts';
import type { ServiceDefinition } from './service-server.ts';

/**
 * fhir_handler (`dfa service fhir`): the HTTP face of the `ImagingFhir` port. It owns the FHIR
 * client and its credentials (DFA_FHIR_AUTH and friends live only in this service); the agent sends
 * work items and results, never FHIR credentials. Faults of the FHIR server keep their codes across
 * the wire (`upstreamStatus`): a version conflict is FHIR_CONFLICT (409, details.status 412 as the
 * FHIR server said), an outage FHIR_UNAVAILABLE (503), a patient mismatch FHIR_PATIENT_MISMATCH (422).
 *
 * The key image (a preview PNG, tens to hundreds of KB) travels base64 inside the JSON body of
 * POST /results, bounded by KEY_IMAGE_MAX_BYTES: it ends up base64 inside the DiagnosticReport
 * (presentedForm.data) anyway, so the service needs no artifact store for it.
 */
export interface FhirServiceDeps {
  readonly workflow: ImagingFhir;
  /** GET [base]/metadata of the FHIR server (readiness). */
  readonly probe: () => Promise<unknown>;
  readonly close?: () => Promise<void>;
}

/** Bodies that carry a work item (its series list may be long). */
const ITEM_BODY_LIMIT = 1024 * 1024;

/** Largest key image PNG accepted (bytes, before base64). */
export const KEY_IMAGE_MAX_BYTES = 8 * 1024 * 1024;

const Ref = (type: string) => z.string().regex(new RegExp(`^${type}/[A-Za-z0-9._/-]{1,128}$`), `'${type}/<id>'`);
const Date10 = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const Text = z.string().max(1024);

export const WorkQuerySchema = z.strictObject({
  status: z.string().min(1).max(32),
  modality: z.string().max(16).optional(),
  bodySite: Text.optional(),
  dateFrom: Date10.optional(),
  dateTo: Date10.optional(),
  patient: Text.optional().describe('identifier value or Patient/<id>'),
  studyInstanceUid: z.string().max(128).optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
});
const SeriesSummarySchema = z.object({
  uid: z.string(),
  modality: z.string(),
  description: z.string().optional(),
  instances: z.number().optional(),
  bodySite: z.string().optional(),
});
export const WorkItemSchema = z.strictObject({
  imagingStudy: Ref('ImagingStudy'),
  versionId: z.string().optional(),
  studyInstanceUid: z.string().min(1).max(128),
  accessionNumber: z.string().optional(),
  patient: Ref('Patient').optional(),
  serviceRequest: Ref('ServiceRequest').optional(),
  modalities: z.array(z.string()),
  seriesUids: z.array(z.string()),
  started: z.string().optional(),
  description: z.string().optional(),
  series: z.array(SeriesSummarySchema).optional(),
  patientMrn: z.string().optional(),
  patientName: z.string().optional(),
});
const PatientSummarySchema = z.object({ reference: z.string(), mrn: z.string().optional(), name: z.string().optional() });
const Concept = z.object({ scheme: z.string(), code: z.string(), meaning: z.string() });
const SopRef = z.object({ seriesInstanceUid: z.string(), sopInstanceUid: z.string() });
export const JobResultsSchema = z.strictObject({
  jobKey: z.string().min(1).max(512),
  rtstruct: SopRef.optional(),
  seg: SopRef.optional(),
  sourceSeriesInstanceUid: z.string(),
  volumesMl: z.record(z.string(), z.number()),
  labels: z.array(z.object({ value: z.number().int(), roiName: z.string(), color: z.tuple([z.number(), z.number(), z.number()]), concept: Concept, category: Concept })),
  model: z.object({ name: z.string(), version: z.string() }),
  coverage: z.record(z.string(), z.enum(['complete', 'partial'])).optional(),
  reviewer: z.string().optional(),
  keyImage: z.object({ title: z.string(), pngBase64: z.base64().max(Math.ceil(KEY_IMAGE_MAX_BYTES / 3) * 4) }).optional().describe('the preview PNG, base64'),
});
const TaskRef = Ref('Task');
const TaskStateSchema = z.enum(['in-progress', 'on-hold', 'completed', 'failed', 'rejected']);
const RecordResultsResponse = z.object({
  diagnosticReport: z.string(),
  provenance: z.string(),
  written: z.array(z.object({ reference: z.string(), versionId: z.string().optional() })),
});

/** Faults of the FHIR server, answered with their codes (the in-process port throws the same). */
export function fhirFaultStatus(e: DfaError): number | undefined {
  switch (e.code) {
    case 'FHIR_CONFLICT':
      return 409;
    case 'FHIR_PATIENT_MISMATCH':
      return 422;
    case 'FHIR_UNAVAILABLE':
      return 503;
    case 'FHIR_TIMEOUT':
      return 504;
    case 'FHIR_AUTH_FAILED': // the FHIR server refused this service's credentials: not the caller's
    case 'FHIR_HTTP_ERROR':
      return 502;
    default:
      return undefined;
  }
}

/** The wire form of JobResults (the key image base64) back to the port's. */
export function resultsFromWire(r: z.infer<typeof JobResultsSchema>): JobResults {
  const { keyImage, ...rest } = r;
  return { ...rest, ...(keyImage ? { keyImage: { title: keyImage.title, png: new Uint8Array(Buffer.from(keyImage.pngBase64, 'base64')) } } : {}) };
}

export function fhirService(deps: FhirServiceDeps): ServiceDefinition {
  const wf = deps.workflow;
  return {
    name: 'fhir',
    title: 'fhir_handler',
    description: 'The FHIR side of the workflow (worklist, patients, Task, results) over HTTP; FHIR credentials stay in this service.',
    upstreams: { fhir: deps.probe },
    upstreamStatus: fhirFaultStatus,
    close: deps.close,
    routes: [
      defineRoute({
        method: 'POST',
        path: '/work/find',
        summary: 'ImagingStudy work items (findWork)',
        body: WorkQuerySchema,
        response: z.object({ items: z.array(WorkItemSchema) }),
        handler: async ({ body }) => ({ items: await wf.findWork(body) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/patients/find',
        summary: 'Patients by MRN or exact DICOM-style name (findPatients)',
        body: z.strictObject({ identifier: Text.optional(), name: Text.optional() }),
        response: z.object({ patients: z.array(PatientSummarySchema) }),
        handler: async ({ body }) => ({ patients: await wf.findPatients(body) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/patients/check',
        summary: "The DICOM PatientID against the work item's Patient (checkPatient)",
        bodyLimit: ITEM_BODY_LIMIT,
        body: z.strictObject({ item: WorkItemSchema, dicomPatientId: z.string().max(128) }),
        response: 'empty',
        errors: { 422: 'No identifier of the Patient matches (FHIR_PATIENT_MISMATCH)' },
        handler: async ({ body }) => wf.checkPatient(body.item, body.dicomPatientId),
      }),
      defineRoute({
        method: 'POST',
        path: '/tasks/ensure',
        summary: "The job's Task, created once per jobKey (ensureTask)",
        bodyLimit: ITEM_BODY_LIMIT,
        body: z.strictObject({ item: WorkItemSchema, jobKey: z.string().min(1).max(512) }),
        response: z.object({ task: z.string() }),
        handler: async ({ body }) => ({ task: await wf.ensureTask(body.item, body.jobKey) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/tasks/update',
        summary: 'Task status (and statusReason) by read-modify-write with If-Match (updateTask)',
        body: z.strictObject({ task: TaskRef, status: TaskStateSchema, reason: z.string().max(16_384).optional() }),
        response: 'empty',
        errors: { 409: 'The Task changed meanwhile, twice (FHIR_CONFLICT; details.status 412)' },
        handler: async ({ body }) => wf.updateTask(body.task, body.status, body.reason),
      }),
      defineRoute({
        method: 'POST',
        path: '/results',
        summary: 'DiagnosticReport + Observations, Provenance, ImagingStudy → available (recordResults); idempotent',
        body: z.strictObject({ item: WorkItemSchema, results: JobResultsSchema }),
        bodyLimit: Math.ceil(KEY_IMAGE_MAX_BYTES / 3) * 4 + 256 * 1024,
        response: RecordResultsResponse,
        errors: { 409: 'The study no longer takes results, or changed meanwhile (FHIR_CONFLICT)' },
        handler: async ({ body }) => wf.recordResults(body.item, resultsFromWire(body.results)),
      }),
    ],
  };
}
