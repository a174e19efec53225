/**
 * One error type for faults, with a stable code and a cause (STYLE.md: expected protocol outcomes
 * are values; faults are typed errors). Map codes to exit codes / HTTP status in one place
 * (`exitCodeFor`, `httpStatusFor`).
 */
export type DfaErrorCode =
  // configuration and input
  | 'CONFIG_INVALID'
  | 'GOAL_UNSUPPORTED'
  | 'FILE_NOT_FOUND' // a path given on the command line is not there
  // DICOM input
  | 'DICOM_PARSE_FAILED' // truncated / not DICOM / bad VR
  | 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX'
  | 'DICOM_NO_PIXEL_DATA'
  | 'DICOM_NOT_CT'
  | 'DICOM_NO_IMAGE_SERIES'
  | 'SERIES_NOT_FOUND' // a series named by the user (e.g. segment --series) is not in the input, or is not an image series
  | 'DICOM_INCONSISTENT_SERIES' // mixed orientations, sizes, frames of reference
  | 'DICOM_MISSING_SLICES'
  | 'DICOM_BAD_GEOMETRY'
  | 'RTSTRUCT_INVALID'
  // networking
  | 'DICOM_ASSOCIATION_REJECTED'
  | 'DICOM_AE_NOT_ALLOWED' // peer refused our AE / unknown move destination
  | 'DICOM_TIMEOUT'
  | 'DICOM_CONNECTION_FAILED'
  | 'DICOM_TLS_FAILED' // handshake refused: certificate expired / unknown CA / wrong host, not TLS
  | 'DICOM_OPERATION_FAILED' // DIMSE failure status
  | 'DICOMWEB_HTTP_ERROR'
  | 'RETRIEVE_FAILED' // every retrieval method failed
  | 'STORE_FAILED'
  // FHIR
  | 'FHIR_HTTP_ERROR'
  | 'FHIR_CONFLICT' // 409/412 after re-read
  | 'FHIR_AUTH_FAILED'
  | 'FHIR_TIMEOUT'
  | 'FHIR_UNAVAILABLE'
  | 'FHIR_PATIENT_MISMATCH'
  | 'DICOMWEB_AUTH_FAILED' // token endpoint refused us (DICOMweb client-credentials / smart-backend)
  // REST API callers
  | 'API_UNAUTHENTICATED' // no, bad or expired credentials
  | 'API_FORBIDDEN' // authenticated, but the role does not allow it
  | 'API_HOST_NOT_ALLOWED' // Host header not in DFA_API_ALLOWED_HOSTS (DNS rebinding)
  | 'API_RATE_LIMITED' // too many requests or event streams
  // ML
  | 'MODEL_INVALID'
  | 'MODEL_NOT_INSTALLED' // a plan or the CLI names a model (or kind) the model registry does not have
  | 'SEGMENTATION_FAILED'
  // jobs / storage
  | 'DATABASE_ERROR'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_CHECKSUM_MISMATCH' // an artifact's bytes differ from the checksum stored with it
  | 'JOB_NOT_FOUND'
  | 'REVIEW_NOT_PENDING' // a review decision for a job that does not await one
  | 'SERVICE_UNREACHABLE'
  | 'ARTIFACT_KEY_INVALID' // '..', an absolute path or odd characters in an artifact key
  // our own services over HTTP (src/remote, src/services)
  | 'SERVICE_UNAVAILABLE' // refused, reset, timed out or answered 502/503/504: another replica may serve it
  | 'SERVICE_ERROR' // the service answered something we cannot use (a 500, a bad body)
  | 'INTERNAL';

export class DfaError extends Error {
  readonly code: DfaErrorCode;
  /** Extra machine-readable facts (file, AE title, HTTP status...). Never secrets. */
  readonly details: Record<string, unknown>;

  constructor(code: DfaErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DfaError';
    this.code = code;
    this.details = opts.details ?? {};
  }
}

export function isDfaError(e: unknown, code?: DfaErrorCode): e is DfaError {
  return e instanceof DfaError && (code === undefined || e.code === code);
}

/** Wrap anything thrown into a DfaError, keeping DfaErrors as they are. */
export function toDfaError(e: unknown, fallback: DfaErrorCode = 'INTERNAL'): DfaError {
  if (e instanceof DfaError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new DfaError(fallback, msg, { cause: e });
}

/** DESIGN.md exit codes: 2 = bad goal, bad config or unreachable service. */
export function exitCodeFor(e: unknown): 1 | 2 {
  if (!(e instanceof DfaError)) return 1;
  switch (e.code) {
    case 'CONFIG_INVALID':
    case 'GOAL_UNSUPPORTED':
    case 'FILE_NOT_FOUND':
    case 'SERIES_NOT_FOUND':
    case 'MODEL_INVALID': // a missing or broken model is a configuration problem
    case 'MODEL_NOT_INSTALLED':
    case 'JOB_NOT_FOUND': // a review names a job that does not exist / does not wait
    case 'REVIEW_NOT_PENDING':
    case 'SERVICE_UNREACHABLE':
    case 'SERVICE_UNAVAILABLE':
    case 'DICOM_CONNECTION_FAILED':
    case 'DICOM_TLS_FAILED':
    case 'DICOM_ASSOCIATION_REJECTED':
    case 'DICOM_AE_NOT_ALLOWED':
    case 'FHIR_AUTH_FAILED':
    case 'DICOMWEB_AUTH_FAILED':
    case 'FHIR_UNAVAILABLE':
      return 2;
    default:
      return 1;
  }
}

export function httpStatusFor(e: unknown): number {
  if (!(e instanceof DfaError)) return 500;
  switch (e.code) {
    case 'CONFIG_INVALID':
    case 'GOAL_UNSUPPORTED':
    case 'FILE_NOT_FOUND':
    case 'SERIES_NOT_FOUND':
    case 'MODEL_NOT_INSTALLED':
    case 'ARTIFACT_KEY_INVALID':
      return 400;
    case 'API_UNAUTHENTICATED':
      return 401;
    case 'API_FORBIDDEN':
    case 'API_HOST_NOT_ALLOWED':
      return 403;
    case 'API_RATE_LIMITED':
      return 429;
    case 'ARTIFACT_NOT_FOUND':
    case 'JOB_NOT_FOUND':
      return 404;
    case 'REVIEW_NOT_PENDING':
      return 409;
    case 'SEGMENTATION_FAILED': // every segmenter threw on this input: the input's problem, said as it is
    case 'MODEL_INVALID':
    case 'DICOM_PARSE_FAILED': // DICOM that cannot make a volume: the data's problem (a remote ml_processor answers it so)
    case 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX':
    case 'DICOM_NO_PIXEL_DATA':
    case 'DICOM_NOT_CT':
    case 'DICOM_NO_IMAGE_SERIES':
    case 'DICOM_INCONSISTENT_SERIES':
    case 'DICOM_MISSING_SLICES':
    case 'DICOM_BAD_GEOMETRY':
      return 422;
    case 'FHIR_CONFLICT':
      return 409;
    case 'SERVICE_UNREACHABLE':
    case 'SERVICE_UNAVAILABLE':
    case 'FHIR_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}
