import type { CodeableConcept, Coding, Identifier, ImagingStudy } from '@medplum/fhirtypes';
import type { CodedConcept } from '../core/model.ts';

/**
 * The identifiers and code systems that link DICOM and FHIR (FHIR R4 ImagingStudy notes;
 * DICOMcast conventions), and the identifier systems we use for our own resources so that a
 * re-run finds what an earlier run wrote (conditional create on identifier).
 */
export const DICOM_UID_SYSTEM = 'urn:dicom:uid'; // R4 ImagingStudy.identifier: value urn:oid:<UID>
export const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM'; // modalities, PS3.16
export const SOP_CLASS_SYSTEM = 'urn:ietf:rfc:3986'; // R4 ImagingStudy.series.instance.sopClass
export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203'; // identifier types (ACSN, MR)
export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';

/** Our own identifier systems (URNs so they never collide with a hospital's). */
export const JOB_SYSTEM = 'urn:dfa:job'; // Task.identifier = jobKey
export const RESULT_SYSTEM = 'urn:dfa:result'; // DiagnosticReport / Observation per job
export const MODEL_SYSTEM = 'urn:dfa:model'; // Device.identifier = name@version

export const RTSTRUCT_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.481.3'; // PS3.4 B.5 RT Structure Set Storage
export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4'; // PS3.4 B.5 Segmentation Storage

export function studyUidIdentifier(uid: string): Identifier {
  return { system: DICOM_UID_SYSTEM, value: `urn:oid:${uid}` };
}

/** Token search value(s) matching a study UID written either way (urn:oid: prefix or bare). */
export function studyUidSearch(uid: string): string {
  return `${DICOM_UID_SYSTEM}|urn:oid:${uid},${DICOM_UID_SYSTEM}|${uid}`;
}

/** StudyInstanceUID of an ImagingStudy: `urn:oid:<UID>` is the R4 convention; a bare UID is accepted. */
export function studyUidOf(study: ImagingStudy): string | undefined {
  const id = study.identifier?.find((i) => i.system === DICOM_UID_SYSTEM && i.value) ?? study.identifier?.find((i) => i.value?.startsWith('urn:oid:'));
  return id?.value ? id.value.replace(/^urn:oid:/, '') : undefined;
}

export function isAccession(i: Identifier): boolean {
  return !!i.type?.coding?.some((c) => c.system === V2_0203 && c.code === 'ACSN');
}

export function accessionIdentifier(value: string, system?: string): Identifier {
  return { use: 'usual', type: { coding: [{ system: V2_0203, code: 'ACSN', display: 'Accession ID' }] }, ...(system ? { system } : {}), value };
}

export function modalityCoding(code: string): Coding {
  return { system: DCM_SYSTEM, code };
}

/** DICOM strings may be padded with spaces (PS3.5 6.2) or NULs (UI, and some writers): trim both. */
export function cleanDicomText(s: string | undefined): string {
  return (s ?? '').replace(/^[\s\0]+|[\s\0]+$/g, '');
}

/** DICOM DA (YYYYMMDD) → FHIR dateTime date part; undefined if malformed. */
export function dicomDateToFhir(da: string | undefined): string | undefined {
  const d = cleanDicomText(da);
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : undefined;
}

/** A DICOM coded concept (PS3.16 scheme designator) as a FHIR CodeableConcept. */
export function conceptToFhir(c: CodedConcept): CodeableConcept {
  const system = c.scheme === 'SCT' || c.scheme === 'SRT' ? SNOMED : c.scheme === 'LN' ? LOINC : c.scheme === 'DCM' ? DCM_SYSTEM : `urn:dicom:scheme:${c.scheme}`;
  return { coding: [{ system, code: c.code, display: c.meaning }], text: c.meaning };
}

/**
 * `system|value` for a token search inside a query string: FHIR R4 §3.1.1.5.7 escapes `\ , $ |`
 * in values with a backslash; then URL-encode.
 */
export function tokenParam(system: string | undefined, value: string): string {
  const esc = value.replace(/[\\,$|]/g, (c) => `\\${c}`);
  return encodeURIComponent(`${system ? `${system}|` : ''}${esc}`);
}

/**
 * Our own identifier values (jobKey, …) percent-encode the characters token search treats
 * specially, so the same value can be stored and searched on every server, including those (the
 * dev server among them) that do not implement §3.1.1.5.7 escaping.
 */
export function safeIdValue(v: string): string {
  return v.replace(/[\\,$|%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
