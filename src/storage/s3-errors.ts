import { DfaError } from '../core/errors.ts';

/**
 * An S3 client failure as a typed error. The message names the store and the operation, never
 * credentials (the SDK's own messages carry none; request signatures are not in them).
 * - no such key / 404 → ARTIFACT_NOT_FOUND;
 * - credentials refused, no such bucket → CONFIG_INVALID (the same every time: fix the settings);
 * - network faults, throttling, 5xx → SERVICE_UNREACHABLE (transient: a job step retries it).
 */
export function s3Fault(e: unknown, what: string, location: string): DfaError {
  if (e instanceof DfaError) return e;
  const err = e as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? err.Code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const msg = `${location}: ${what}: ${name}${err.message && err.message !== name ? ` (${err.message})` : ''}`;
  if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket')) {
    return new DfaError('ARTIFACT_NOT_FOUND', msg, { cause: e });
  }
  if (['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidBucketName', 'AuthorizationHeaderMalformed'].includes(name) || status === 403) {
    return new DfaError('CONFIG_INVALID', `${msg}; check DFA_STORAGE_URL, DFA_S3_ENDPOINT and the S3 credentials`, { cause: e });
  }
  if (name === 'BadDigest' || name === 'XAmzContentChecksumMismatch' || name === 'InvalidDigest') {
    return new DfaError('ARTIFACT_CHECKSUM_MISMATCH', msg, { cause: e });
  }
  return new DfaError('SERVICE_UNREACHABLE', msg, { cause: e });
}
