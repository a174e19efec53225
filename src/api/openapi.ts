import { z } from 'zod';
import * as S from './schemas.ts';

/** The OpenAPI 3.1 document served at /openapi.json, generated from the zod schemas the routes use. */
const json = (s: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) } });
const ok = (s: z.ZodType, description = 'OK') => ({ description, content: json(s) });
const err = (description: string) => ({ description, content: json(S.ApiError) });
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

const PHI = { name: 'phi', in: 'query', description: '1: patient names and MRNs unmasked, for callers allowed to see them (x-dfa-phi: shown | masked)', schema: { type: 'string', enum: ['1'] } };

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'dicom-fhir-agent API', version, description: 'Submit imaging-AI goals and follow their per-study jobs.' },
    // DFA_API_AUTH=token|oidc: a bearer token on every route but the public ones (security: []).
    // GET needs the viewer role, POST operator; 401 without a valid token, 403 without the role.
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'DFA_API_TOKEN, or an OIDC access token (JWT) with a viewer/operator/admin role' } } },
    security: [{ bearer: [] }],
    paths: {
      '/health': { get: { summary: 'Liveness', security: [], responses: { 200: ok(S.Health) } } },
      '/ready': { get: { summary: 'Readiness: database, PACS and FHIR reachable', security: [], responses: { 200: ok(S.Readiness), 503: ok(S.Readiness, 'Not ready') } } },
      '/goals': {
        post: {
          summary: 'Plan a goal and start a goal run (one durable job per study)',
          requestBody: { required: true, content: json(S.GoalRequest) },
          responses: {
            202: ok(S.GoalAccepted, 'Accepted: the run is under way'),
            400: err('Bad goal: what was understood and what is missing'),
            401: err('No valid bearer token (DFA_API_AUTH=token|oidc)'),
            403: err('The caller lacks the operator role'),
          },
        },
      },
      '/runs': { get: { summary: 'Recent goal runs', responses: { 200: ok(z.array(S.RunSummary)) } } },
      '/runs/{runId}': { get: { summary: 'A goal run with its jobs', parameters: [pathParam('runId')], responses: { 200: ok(S.RunDetail), 404: err('No such run') } } },
      '/jobs': {
        get: {
          summary: 'Jobs (the audit table), newest activity first; any filter or paging parameter pages in SQL and sets x-total-count',
          parameters: [
            { name: 'runId', in: 'query', schema: { type: 'string' } },
            { name: 'status', in: 'query', description: 'one or more statuses, comma-separated', schema: { type: 'string' } },
            { name: 'q', in: 'query', description: 'text in study UID, accession, description, job key (patient name / MRN with phi=1 when allowed)', schema: { type: 'string' } },
            { name: 'from', in: 'query', description: 'job created on or after (YYYY-MM-DD)', schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', description: 'job created on or before (YYYY-MM-DD)', schema: { type: 'string', format: 'date' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 500, default: 50 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
            PHI,
          ],
          responses: { 200: { ...ok(z.array(S.Job)), headers: { 'x-total-count': { description: 'jobs matching in all (with filters)', schema: { type: 'integer' } } } }, 400: err('Bad filter') },
        },
      },
      '/archive': {
        get: {
          summary: 'The results archive: archived job results (objects under archive/<StudyInstanceUID>/<jobKey>/), newest first',
          parameters: [
            { name: 'study', in: 'query', description: 'StudyInstanceUID', schema: { type: 'string' } },
            { name: 'patient', in: 'query', description: 'PatientID (MRN); needs the operator or admin role', schema: { type: 'string' } },
            { name: 'from', in: 'query', description: 'archived on or after (YYYY-MM-DD or ISO time)', schema: { type: 'string' } },
            { name: 'to', in: 'query', description: 'archived on or before (a YYYY-MM-DD includes the whole day)', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            PHI,
          ],
          responses: { 200: { description: 'archive entries (patientId masked unless phi=1 and allowed)', content: { 'application/json': { schema: { type: 'array', items: { type: 'object' } } } } }, 400: err('Bad filter'), 403: err('Patient search by a viewer') },
        },
      },
      '/jobs/{jobKey}': { get: { summary: 'A job with its steps and events', parameters: [pathParam('jobKey'), PHI], responses: { 200: ok(S.JobDetail), 404: err('No such job') } } },
      '/jobs/{jobKey}/previews/{name}': {
        get: {
          summary: 'A preview PNG of the job (axial/coronal/sagittal, lung/soft window; see GET /jobs/{jobKey} previews)',
          parameters: [pathParam('jobKey'), pathParam('name')],
          responses: { 200: { description: 'image/png', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, 404: err('No such job or preview') },
        },
      },
      '/jobs/{jobKey}/review': {
        post: {
          summary: 'Approve (the contours go on to the PACS) or reject (nothing is stored) a job waiting for review',
          parameters: [pathParam('jobKey')],
          requestBody: { required: true, content: json(S.ReviewDecisionBody) },
          responses: { 200: ok(z.object({ jobKey: z.string(), status: z.string(), review: z.unknown() })), 404: err('No such job'), 409: err('The job does not wait for a review') },
        },
      },
      '/events': {
        get: {
          summary: 'Server-sent events: job events as they happen (resume with Last-Event-ID)',
          parameters: [{ name: 'runId', in: 'query', schema: { type: 'string' } }, { name: 'after', in: 'query', schema: { type: 'string' } }],
          responses: { 200: { description: 'text/event-stream of `event: job` messages whose data is a JobEvent', content: { 'text/event-stream': { schema: z.toJSONSchema(S.JobEvent, { io: 'output', unrepresentable: 'any' }) } } } },
        },
      },
    },
  };
}
