/**
 * What a DICOM peer may make us hold or wait for (issue 10 §1). Every length a peer sends is checked
 * against these before it is used; going over aborts that association (PS3.8 9.3.8), nothing else.
 */
import type { Config } from '../../core/config.ts';
import { DfaError } from '../../core/errors.ts';

export interface DimseLimits {
  /** Largest P-DATA-TF PDU (its length field) we accept: the max length we announced (PS3.8 D.1). */
  readonly maxPdataLength: number;
  /** Largest other PDU (A-ASSOCIATE-RQ/AC/RJ, A-RELEASE, A-ABORT): real ones are a few KiB. */
  readonly maxOtherPduLength: number;
  /** Largest command set (group 0000 is a few hundred bytes). */
  readonly maxCommandBytes: number;
  /** Largest data set of one DIMSE message (DFA_DICOM_MAX_DATASET_MB). */
  readonly maxDatasetBytes: number;
}

/**
 * Max PDU we announce (PS3.8 D.1: max length of the P-DATA-TF variable field). 16 KiB, as dcmtk:
 * the sender then streams a data set while encoding it instead of filling a whole PDU first; on a
 * 300-slice C-GET from Orthanc, 1 MiB was not faster (measurements within this machine's noise).
 */
export const OUR_MAX_PDU = 16384;

export const DEFAULT_LIMITS: DimseLimits = {
  maxPdataLength: OUR_MAX_PDU,
  maxOtherPduLength: 64 * 1024,
  maxCommandBytes: 64 * 1024,
  maxDatasetBytes: 512 * 1024 * 1024,
};

/**
 * PS3.8 D.1: a peer's maximum PDU length of 0 means "no limit"; below 7 a P-DATA-TF cannot carry a
 * single byte of a PDV (4-byte item length, context id, control header), so sending would never end.
 */
export const MIN_PEER_MAX_PDU = 7;

/** A peer broke the protocol or a limit: the association is aborted, the process carries on. */
export function protocolError(message: string, details: Record<string, unknown> = {}): DfaError {
  return new DfaError('DICOM_PARSE_FAILED', message, { details });
}

/** The configured limits (DFA_DICOM_MAX_DATASET_MB); the rest keep their defaults. */
export function dimseLimits(config: Pick<Config, 'DFA_DICOM_MAX_DATASET_MB'>): Partial<DimseLimits> {
  return { maxDatasetBytes: Math.floor(config.DFA_DICOM_MAX_DATASET_MB * 1024 * 1024) };
}
