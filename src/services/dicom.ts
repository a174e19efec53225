import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ArtifactStore, Pacs } from '../core/ports.ts';
import type { ReceivedStudies } from '../dicom/scp/received.ts';
import { defineRoute } from './route.ts';
import type { ServiceDefinition } from './service-server.ts';

/**
 * dicom_handler (`dfa service dicom`): the HTTP face of the `Pacs` port. It owns the DIMSE /
 * DICOMweb connections to the PACS (and, composed by the CLI, our SCP: the C-MOVE destination and
 * the receiver of pushes). Queries answer small JSON; DICOM data never travels in JSON: a retrieval
 * writes the files into the shared artifact store under a key prefix and answers their keys, and a
 * store request names the artifact keys of the Part 10 files to send. Outcomes stay values
 * (DIMSE / HTTP status per instance); faults of the PACS come back with their own codes
 * (`upstreamStatus`). Queries are POSTs so patient IDs stay out of URLs and access logs.
 */
export interface DicomServiceDeps {
  readonly pacs: Pacs;
  /** The artifact store shared with the agent (same local folder, the storage service, or S3). */
  readonly store: ArtifactStore;
  readonly log: Logger;
  /** The studies pushed to our SCP, for the agent's standing goal (GET /received, POST /received/ack). */
  readonly received?: ReceivedStudies;
  readonly close?: () => Promise<void>;
}

const Uid = z.string().min(1).max(64).regex(/^[0-9.]+$/, 'a DICOM UID (digits and dots)');
const Da = z.string().regex(/^\d{8}$/, 'YYYYMMDD');
export const StudyQuerySchema = z.strictObject({
  studyInstanceUid: Uid.optional(),
  patientId: z.string().max(64).optional(),
  accessionNumber: z.string().max(64).optional(),
  modality: z.string().max(16).optional().describe('ModalitiesInStudy'),
  studyDateFrom: Da.optional(),
  studyDateTo: Da.optional(),
});
const StudyRecordSchema = z.object({
  studyInstanceUid: z.string(),
  patientId: z.string().optional(),
  patientName: z.string().optional(),
  studyDate: z.string().optional(),
  accessionNumber: z.string().optional(),
  studyDescription: z.string().optional(),
  modalities: z.array(z.string()),
  numberOfInstances: z.number().optional(),
});
const SeriesRecordSchema = z.object({
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  modality: z.string(),
  seriesNumber: z.number().optional(),
  seriesDescription: z.string().optional(),
  numberOfInstances: z.number().optional(),
});
const InstanceRecordSchema = z.object({
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  sopInstanceUid: z.string(),
  sopClassUid: z.string(),
  instanceNumber: z.number().optional(),
});
const KeyPrefix = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "an artifact key ('a/b/c')")
  .refine((k) => k.split('/').every((s) => s !== '.' && s !== '..'), "no '.' or '..' segments");
export const RetrieveRequest = z.strictObject({
  studyInstanceUid: Uid,
  seriesInstanceUid: Uid.optional(),
  prefix: KeyPrefix.optional().describe('where the files go in the artifact store (default dicom/retrieve/<uuid>)'),
});
const Method = z.enum(['c-get', 'c-move', 'wado-rs']);
export const RetrieveResponse = z.object({
  method: Method.describe('the method that succeeded'),
  prefix: z.string(),
  instances: z.array(z.object({ key: z.string(), studyInstanceUid: z.string(), seriesInstanceUid: z.string(), sopInstanceUid: z.string(), sopClassUid: z.string() })),
  attempts: z.array(z.object({ method: Method, ok: z.boolean(), reason: z.string().optional(), ms: z.number() })),
});
export const StoreRequest = z.strictObject({ keys: z.array(KeyPrefix).min(1).max(10_000).describe('artifact keys of Part 10 files') });
const ReceivedInstanceSchema = z.object({ key: z.string(), studyInstanceUid: z.string(), seriesInstanceUid: z.string(), sopInstanceUid: z.string(), sopClassUid: z.string() });
export const ReceivedQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0).describe('cursor: the id of the last entry seen (0: from the start)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const ReceivedResponse = z.object({
  studies: z.array(
    z.object({
      id: z.number().describe('increasing; the next cursor'),
      studyInstanceUid: z.string(),
      callingAets: z.array(z.string()).describe('who pushed it (the PACS\'s own AE: a notification, nothing to forward)'),
      completedAt: z.string().describe('when its quiet time (DFA_STANDING_GOAL_QUIET_MS) ended'),
      instances: z.array(ReceivedInstanceSchema).describe('Part 10 files by artifact key in the shared store'),
    }),
  ),
  next: z.number().describe('the cursor for the next call (after=)'),
});
export const ReceivedAck = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).max(1000),
  keep: z.array(KeyPrefix).max(100_000).optional().describe('keys to leave in the inbox (the PACS refused them); listed again at the next start'),
});
export const StoreResponse = z.object({
  outcomes: z.array(z.object({ sopInstanceUid: z.string(), ok: z.boolean(), status: z.number().describe('DIMSE status, or HTTP status for STOW-RS'), reason: z.string().optional() })),
});

/** Faults of the PACS itself, answered with their codes (the in-process Pacs throws the same). */
export function pacsFaultStatus(e: DfaError): number | undefined {
  switch (e.code) {
    case 'DICOM_TIMEOUT':
      return 504;
    case 'DICOM_CONNECTION_FAILED':
    case 'DICOM_TLS_FAILED':
    case 'DICOM_ASSOCIATION_REJECTED':
    case 'DICOM_AE_NOT_ALLOWED':
    case 'DICOM_OPERATION_FAILED':
    case 'DICOMWEB_HTTP_ERROR':
    case 'DICOMWEB_AUTH_FAILED':
    case 'RETRIEVE_FAILED':
    case 'STORE_FAILED':
      return 502;
    default:
      return undefined;
  }
}

/** The artifact key of a file the Pacs wrote into `dir`, the local directory of `prefix`. */
function keyOf(prefix: string, dir: string, path: string): string {
  const rel = relative(dir, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new DfaError('INTERNAL', `retrieved file outside the artifact directory ${prefix}`);
  return `${prefix}/${rel.split(sep).join('/')}`;
}

export function dicomService(deps: DicomServiceDeps): ServiceDefinition {
  const { pacs, store, log } = deps;
  return {
    name: 'dicom',
    title: 'dicom_handler',
    description: 'The PACS (DIMSE / DICOMweb) over HTTP: echo, queries, retrieval into the artifact store (answers keys), storage from artifact keys.',
    upstreams: {
      pacs: () => pacs.echo(),
      store: () => store.list('.ready-probe'),
    },
    upstreamStatus: pacsFaultStatus,
    close: deps.close,
    routes: [
      defineRoute({
        method: 'POST',
        path: '/echo',
        summary: 'C-ECHO the PACS (a QIDO-RS that matches nothing when only DICOMweb is configured)',
        response: 'empty',
        errors: { 502: 'The PACS refused or failed (DICOM_* code)', 504: 'The PACS did not answer in time (DICOM_TIMEOUT)' },
        handler: async () => pacs.echo(),
      }),
      ...(deps.received ? receivedRoutes(deps.received) : []),
      defineRoute({
        method: 'POST',
        path: '/find/studies',
        summary: 'C-FIND (or QIDO-RS) at study level',
        body: StudyQuerySchema,
        response: z.object({ studies: z.array(StudyRecordSchema) }),
        handler: async ({ body }) => ({ studies: await pacs.findStudies(body) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/find/series',
        summary: 'C-FIND (or QIDO-RS) at series level in one study',
        body: z.strictObject({ studyInstanceUid: Uid, modality: z.string().max(16).optional() }),
        response: z.object({ series: z.array(SeriesRecordSchema) }),
        handler: async ({ body }) => ({ series: await pacs.findSeries(body.studyInstanceUid, body.modality ? { modality: body.modality } : {}) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/find/instances',
        summary: 'C-FIND (or QIDO-RS) at instance level in one series',
        body: z.strictObject({ studyInstanceUid: Uid, seriesInstanceUid: Uid }),
        response: z.object({ instances: z.array(InstanceRecordSchema) }),
        handler: async ({ body }) => ({ instances: await pacs.findInstances(body.studyInstanceUid, body.seriesInstanceUid) }),
      }),
      defineRoute({
        method: 'POST',
        path: '/retrieve',
        summary: 'Retrieve a study or series (the configured methods in order) into the artifact store; answers the keys',
        body: RetrieveRequest,
        response: RetrieveResponse,
        errors: { 502: 'Every retrieval method failed (RETRIEVE_FAILED, with each attempt)' },
        handler: async ({ body }) => {
          const prefix = body.prefix ?? `dicom/retrieve/${randomUUID()}`;
          const dir = await store.dir(prefix);
          const req = { studyInstanceUid: body.studyInstanceUid, ...(body.seriesInstanceUid ? { seriesInstanceUid: body.seriesInstanceUid } : {}) };
          const r = await pacs.retrieve(req, dir);
          await store.commit(prefix); // an object store publishes the files now (local disk: already there)
          await store.release?.(prefix); // the caller reads them from the store: no copy of every study here
          log.info('retrieved into the artifact store', { prefix, method: r.method, instances: r.instances.length });
          return { method: r.method, prefix, instances: r.instances.map(({ path, ...uids }) => ({ key: keyOf(prefix, dir, path), ...uids })), attempts: r.attempts };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/store',
        summary: 'Store the Part 10 files under these artifact keys (C-STORE or STOW-RS as configured); statuses are values',
        body: StoreRequest,
        response: StoreResponse,
        errors: { 404: 'A key names no artifact (ARTIFACT_NOT_FOUND)' },
        handler: async ({ body }) => {
          // The files from the store into a scratch folder of ours, sent, then removed.
          const scratch = await mkdtemp(join(tmpdir(), 'dfa-dicom-store-'));
          try {
            const files: string[] = [];
            for (const [i, key] of body.keys.entries()) {
              const path = join(scratch, `${i}-${basename(key)}`);
              await writeFile(path, await store.get(key));
              files.push(path);
            }
            return { outcomes: await pacs.store(files) };
          } finally {
            await rm(scratch, { recursive: true, force: true });
          }
        },
      }),
    ],
  };
}

/** The received-studies list (the standing goal's feed): read with a cursor, acknowledged by id. */
function receivedRoutes(received: ReceivedStudies) {
  return [
    defineRoute({
      method: 'GET',
      path: '/received',
      summary: 'Studies pushed to our SCP and complete (quiet), not yet acknowledged, oldest first; their files are in the shared artifact store',
      query: ReceivedQuery,
      response: ReceivedResponse,
      handler: async ({ query }) => {
        const studies = received.journal.list(query.after, query.limit);
        return { studies, next: studies.at(-1)?.id ?? query.after };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/received/ack',
      summary: 'The agent has started these studies\' runs: forget them and remove their inbox files (but `keep`); unknown ids are ignored',
      body: ReceivedAck,
      response: z.object({ acknowledged: z.array(z.number()) }),
      handler: async ({ body }) => ({ acknowledged: await received.ack(body.ids, body.keep) }),
    }),
  ];
}
