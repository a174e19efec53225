import type { OperationOutcome } from '@medplum/fhirtypes';
import { DfaError, type DfaErrorCode } from '../core/errors.ts';

/**
 * Turns a non-2xx FHIR response into a DfaError whose message carries the OperationOutcome's issue
 * text (FHIR R4 §3.1.0.4: servers SHOULD return an OperationOutcome with errors).
 */
export function outcomeText(body: unknown): string | undefined {
  if (!isOutcome(body)) return undefined;
  const parts = (body.issue ?? []).map((i) => {
    const where = i.expression?.length ? ` (${i.expression.join(', ')})` : '';
    return `${i.severity}: ${i.details?.text ?? i.diagnostics ?? i.code}${where}`;
  });
  return parts.length ? parts.join('; ') : undefined;
}

export function isOutcome(body: unknown): body is OperationOutcome {
  return typeof body === 'object' && body !== null && (body as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}

export function codeForStatus(status: number): DfaErrorCode {
  if (status === 401 || status === 403) return 'FHIR_AUTH_FAILED';
  if (status === 409 || status === 412) return 'FHIR_CONFLICT';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'FHIR_UNAVAILABLE';
  return 'FHIR_HTTP_ERROR';
}

export function httpError(method: string, url: string, status: number, body: unknown): DfaError {
  const text = outcomeText(body) ?? (typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`);
  return new DfaError(codeForStatus(status), `FHIR ${method} ${stripQuery(url)} → ${status}: ${text}`, {
    details: { status, method, url: stripQuery(url), outcome: isOutcome(body) ? body : undefined },
  });
}

/** Search parameters may carry patient identifiers: keep them out of messages. */
function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q) + '?…';
}

/** The HTTP status of a FHIR error, if it came from a response. */
export function statusOf(e: unknown): number | undefined {
  if (!(e instanceof DfaError)) return undefined;
  const s = e.details['status'];
  return typeof s === 'number' ? s : undefined;
}
