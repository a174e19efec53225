import { createHash } from 'node:crypto';

/**
 * Deterministic DICOM UIDs: '2.25.' + a decimal integer derived from a hash (PS3.5 B.2, UUID-derived
 * UIDs; max 64 characters). The same inputs give the same UID, so a re-run replaces rather than
 * duplicates (same SOP Instance UID in the PACS).
 */
export function deterministicUid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  // 128 bits as in a UUID: fits 2.25.<39 digits> within 64 characters.
  const n = BigInt('0x' + h.subarray(0, 16).toString('hex'));
  return `2.25.${n.toString(10)}`;
}

/** A fresh random UID (for things that must be unique, e.g. a new phantom study). */
export function randomUid(): string {
  return deterministicUid(String(Date.now()), String(Math.random()), String(process.hrtime.bigint()));
}

const UID_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
/** PS3.5 9.1: components of digits, no leading zeros, at most 64 characters. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && UID_RE.test(uid);
}
