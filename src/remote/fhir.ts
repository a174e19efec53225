import { DfaError, isDfaError } from '../core/errors.ts';
import type { ImagingFhir, JobResults, PatientQuery, PatientSummary, TaskState, WorkItem, WorkQuery, WrittenRef } from '../core/ports.ts';
import type { ServiceClient } from './service-client.ts';

/**
 * The FHIR side through the fhir_handler's HTTP API (DFA_FHIR_SERVICE_URL), as the same
 * `ImagingFhir` port a job uses in process; the FHIR credentials stay in the service. FHIR faults
 * come back with their own codes (FHIR_CONFLICT, FHIR_PATIENT_MISMATCH…). The service itself being
 * down or cut off is, to a job, the FHIR side being unavailable: FHIR_UNAVAILABLE (transient; the
 * outage guard then probes the service's /ready, which probes the FHIR server's /metadata).
 * The key image PNG goes base64 inside the JSON body (see src/services/fhir.ts).
 */
export class RemoteFhir implements ImagingFhir {
  private readonly client: ServiceClient;

  constructor(client: ServiceClient) {
    this.client = client;
  }

  private async post<T>(path: string, json: unknown, empty = false): Promise<T> {
    try {
      if (empty) {
        await this.client.call('POST', path, { json });
        return undefined as T;
      }
      return await this.client.json<T>('POST', path, { json });
    } catch (e) {
      if (isDfaError(e, 'SERVICE_UNAVAILABLE')) throw new DfaError('FHIR_UNAVAILABLE', e.message, { cause: e, details: e.details });
      throw e;
    }
  }

  async findWork(q: WorkQuery): Promise<WorkItem[]> {
    return (await this.post<{ items: WorkItem[] }>('/work/find', q)).items;
  }

  async findPatients(q: PatientQuery): Promise<PatientSummary[]> {
    return (await this.post<{ patients: PatientSummary[] }>('/patients/find', q)).patients;
  }

  async checkPatient(item: WorkItem, dicomPatientId: string): Promise<void> {
    await this.post('/patients/check', { item, dicomPatientId }, true);
  }

  async ensureTask(item: WorkItem, jobKey: string): Promise<string> {
    return (await this.post<{ task: string }>('/tasks/ensure', { item, jobKey })).task;
  }

  async updateTask(task: string, status: TaskState, reason?: string): Promise<void> {
    await this.post('/tasks/update', { task, status, ...(reason !== undefined ? { reason } : {}) }, true);
  }

  async recordResults(item: WorkItem, results: JobResults): Promise<{ diagnosticReport: string; provenance: string; written: readonly WrittenRef[] }> {
    const { keyImage, ...rest } = results;
    const wire = { ...rest, ...(keyImage ? { keyImage: { title: keyImage.title, pngBase64: Buffer.from(keyImage.png).toString('base64') } } : {}) };
    return this.post('/results', { item, results: wire });
  }
}
