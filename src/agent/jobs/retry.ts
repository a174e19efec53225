import type { RetryPolicy } from '@langchain/langgraph';
import { isDfaError, type DfaErrorCode } from '../../core/errors.ts';

/**
 * Which faults are worth another try: the network and the servers behind it (a PACS association
 * refused while busy, a FHIR 503, a version conflict re-read). Bad input (a broken series, a patient
 * mismatch, QC failure) fails the same way every time, so it ends the job at once.
 */
const TRANSIENT: ReadonlySet<DfaErrorCode> = new Set<DfaErrorCode>([
  'DICOM_TIMEOUT',
  'DICOM_CONNECTION_FAILED',
  'DICOM_ASSOCIATION_REJECTED',
  'DICOM_OPERATION_FAILED',
  'DICOMWEB_HTTP_ERROR',
  'RETRIEVE_FAILED',
  'STORE_FAILED',
  'FHIR_HTTP_ERROR',
  'FHIR_CONFLICT',
  'FHIR_TIMEOUT',
  'FHIR_UNAVAILABLE',
  'DATABASE_ERROR',
  'SERVICE_UNAVAILABLE',
  'SERVICE_UNREACHABLE',
]);

const NODE_NET_ERRORS = /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_)/;

export function isTransient(e: unknown): boolean {
  if (isDfaError(e)) return TRANSIENT.has(e.code);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NODE_NET_ERRORS.test(code);
}

/** Retry timing; tests shrink it. The defaults ride out a PACS or FHIR restart of ~30 s. */
export interface RetryTiming {
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly maxAttempts: number;
}
export const DEFAULT_RETRY: RetryTiming = { initialIntervalMs: 1000, maxIntervalMs: 30_000, maxAttempts: 5 };

/** Policy objects attached to graph nodes (LangGraph RetryPolicy), one per kind of step. */
export function retryPolicies(t: RetryTiming): { network: RetryPolicy; local: RetryPolicy } {
  const network: RetryPolicy = {
    initialInterval: t.initialIntervalMs,
    backoffFactor: 2,
    maxInterval: t.maxIntervalMs,
    maxAttempts: t.maxAttempts,
    jitter: true,
    retryOn: isTransient,
    logWarning: false,
  };
  // Local computation (volume, segmentation, writers) fails deterministically: one attempt.
  const local: RetryPolicy = { maxAttempts: 1, retryOn: () => false, logWarning: false };
  return { network, local };
}
