/**
 * One error type for faults, with a stable code and a cause (STYLE.md: expected protocol outcomes
 * are values; faults are typed errors). Map codes to exit codes / HTTP status in one place
 * (`exitCodeFor`, `httpStatusFor`).
 */
export type DfaErrorCode =
  // configuration and input
  | 'CONFIG_INVALID'
  | 'GOAL_UNSUPPORTED'
  // DICOM input
  | 'DICOM_PARSE_FAILED' // truncated / not DICOM / bad VR
  | 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX'
  | 'DICOM_NO_PIXEL_DATA'
  | 'DICOM_NOT_CT'
  | 'DICOM_NO_IMAGE_SERIES'
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
  // ML
  | 'MODEL_INVALID'
  | 'SEGMENTATION_FAILED'
  // jobs / storage
  | 'DATABASE_ERROR'
  | 'ARTIFACT_NOT_FOUND'
  | 'SERVICE_UNREACHABLE'
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
    case 'MODEL_INVALID': // a missing or broken model is a configuration problem
    case 'SERVICE_UNREACHABLE':
    case 'DICOM_CONNECTION_FAILED':
    case 'DICOM_TLS_FAILED':
    case 'DICOM_ASSOCIATION_REJECTED':
    case 'DICOM_AE_NOT_ALLOWED':
    case 'FHIR_AUTH_FAILED':
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
      return 400;
    case 'ARTIFACT_NOT_FOUND':
      return 404;
    case 'FHIR_CONFLICT':
      return 409;
    case 'SERVICE_UNREACHABLE':
    case 'FHIR_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}
