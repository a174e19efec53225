/**
 * Pieces shared by the writers of derived objects (RTSTRUCT, SEG): the modules copied from the
 * source CT, our equipment identification, DICOM date/time and DS formatting, Part 10 encoding.
 */
import { createRequire } from 'node:module';
import { DfaError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/model.ts';
import { deterministicUid } from '../../core/uid.ts';
import type { VolumeMeta } from '../../core/volume.ts';
import type { NaturalDataset } from '../parse/dcmjs.ts';
import { encodePart10Fast } from './encode.ts';

const pkg = createRequire(import.meta.url)('../../../package.json') as { name: string; version: string };

/** Our identification in General / Enhanced General Equipment (PS3.3 C.7.5.1, C.7.5.2). */
export const EQUIPMENT = {
  manufacturer: 'dicom-fhir-agent',
  softwareVersion: pkg.version,
} as const;

/** Implicit VR Little Endian: 4-byte lengths, so a long ContourData (DS) fits (explicit VR caps DS at 64 KiB). */
export { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './encode.ts';
/** Our implementation class UID (PS3.7 D.3.3.2), derived from the product name. */
const IMPLEMENTATION_CLASS_UID = deterministicUid(pkg.name, 'implementation-class');

/** Patient, General Study modules copied from the source series (PS3.3 C.7.1.1, C.7.2.1). */
export function patientAndStudy(meta: VolumeMeta): NaturalDataset {
  return {
    PatientName: clean(meta.patientName),
    PatientID: clean(meta.patientId),
    PatientBirthDate: clean(meta.patientBirthDate),
    PatientSex: clean(meta.patientSex),
    StudyInstanceUID: meta.studyInstanceUid,
    StudyDate: clean(meta.studyDate),
    StudyTime: clean(meta.studyTime),
    ReferringPhysicianName: clean(meta.referringPhysicianName),
    StudyID: clean(meta.studyId),
    AccessionNumber: clean(meta.accessionNumber),
    ...(meta.studyDescription ? { StudyDescription: clean(meta.studyDescription) } : {}),
  };
}

/**
 * Frame of Reference module (PS3.3 C.7.4.1): the contours / frames are in the CT's patient space.
 * PositionReferenceIndicator is Type 2 and not carried in VolumeMeta, so it is written empty.
 */
export function frameOfReference(meta: VolumeMeta): NaturalDataset {
  return { FrameOfReferenceUID: meta.frameOfReferenceUid, PositionReferenceIndicator: '' };
}

/** Copied strings lose padding and NULs that some sources leave in (dciodvfy rejects trailing NUL). */
function clean(v: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (v ?? '').replace(/[\x00-\x1f]+/g, ' ').trim();
}

/** DA and TM (PS3.5 6.2) in UTC. */
export function dicomDateTime(d: Date): { date: string; time: string } {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  return { date: iso.slice(0, 10).replaceAll('-', ''), time: iso.slice(11, 19).replaceAll(':', '') };
}

/** DS (PS3.5 6.2): at most 16 characters; 6 decimals (1 nm) keep PixelSpacing and positions as read. */
export function formatDS(v: number): string {
  if (!Number.isFinite(v)) throw new DfaError('INTERNAL', `cannot write ${v} as DS`);
  let s = (Math.round(v * 1e6) / 1e6).toString();
  if (s === '-0') s = '0';
  if (s.length > 16) s = v.toPrecision(10).replace(/\.?0+(e|$)/, '$1');
  if (s.length > 16) throw new DfaError('INTERNAL', `value ${v} does not fit a DS`);
  return s;
}

/**
 * A multi-valued DS (PS3.5 6.2, values separated by backslash) straight into ASCII bytes, for
 * ContourData: one string per coordinate (then joined and encoded) made most of an RTSTRUCT's
 * garbage. Byte for byte what joining `formatDS` of each value gives: a value rounded to 1e-6 is an
 * integer count of micro-units, printed as integer part and up to 6 decimals without trailing zeros
 * (the shortest round-trip form of that double, which is what `formatDS` prints, for magnitudes
 * below 1e8, at most 16 characters); larger magnitudes go through `formatDS` itself.
 */
export function encodeDSList(values: ArrayLike<number>): Uint8Array {
  // At most 16 characters per value (PS3.5 6.2) plus a separator.
  const out = new Uint8Array(values.length * 17);
  let o = 0;
  for (let i = 0; i < values.length; i++) {
    if (i) out[o++] = 0x5c; // '\'
    const v = values[i];
    const micro = Math.round(v * 1e6);
    if (!Number.isFinite(v) || Math.abs(micro) >= 1e14) {
      for (const ch of formatDS(v)) out[o++] = ch.charCodeAt(0);
      continue;
    }
    const k = Math.abs(micro);
    if (micro < 0) out[o++] = 0x2d; // '-' ('-0' is written as '0', as formatDS does)
    let int = Math.floor(k / 1e6);
    let frac = k - int * 1e6;
    // Integer part: count its digits, then fill from the right (no temporary views or strings).
    let len = 1;
    for (let t = int; t >= 10; t = Math.floor(t / 10)) len++;
    for (let d = len - 1; d >= 0; d--) {
      out[o + d] = 0x30 + (int % 10);
      int = Math.floor(int / 10);
    }
    o += len;
    if (frac > 0) {
      out[o++] = 0x2e; // '.'
      let digits = 6;
      while (frac % 10 === 0) {
        frac /= 10;
        digits--;
      }
      for (let d = digits - 1; d >= 0; d--) {
        out[o + d] = 0x30 + (frac % 10);
        frac = Math.floor(frac / 10);
      }
      o += digits;
    }
  }
  return out.slice(0, o);
}

/** LO / SH values: strip backslashes (value separator) and cut to the VR's length. */
export function text(value: string, max = 64): string {
  return value.replaceAll('\\', '/').slice(0, max);
}

/** Algorithm Family (PS3.16 CID 7162) for a manifest kind. */
export function algorithmFamily(manifest: ModelManifest): { CodeValue: string; CodingSchemeDesignator: string; CodeMeaning: string } {
  return manifest.kind === 'onnx'
    ? { CodeValue: '123110', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Artificial Intelligence' }
    : { CodeValue: '123104', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Morphological Operations' };
}

/** Encode a naturalized dataset as a Part 10 file (PS3.10 7.1). */
export function encodePart10(dataset: NaturalDataset, transferSyntaxUid: string): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]),
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: text(`DFA_${EQUIPMENT.softwareVersion}`, 16),
  };
  return encodePart10Fast(meta, dataset, transferSyntaxUid);
}
