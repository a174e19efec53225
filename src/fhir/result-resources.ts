import type { Device, DiagnosticReport, ImagingStudy, ImagingStudySeries, Observation, Provenance, Reference } from '@medplum/fhirtypes';
import { DfaError } from '../core/errors.ts';
import type { JobResults, WorkItem } from '../core/ports.ts';
import {
  conceptToFhir,
  LOINC,
  MODEL_SYSTEM,
  modalityCoding,
  RESULT_SYSTEM,
  RTSTRUCT_SOP_CLASS,
  safeIdValue,
  SEG_SOP_CLASS,
  SNOMED,
  SOP_CLASS_SYSTEM,
  UCUM,
} from './dicom-fhir-ids.ts';

/**
 * Pure builders for the resources a finished job writes. Identifiers are derived from the jobKey so
 * that conditional create finds them on a re-run. ROI names and codes come from the model's
 * manifest (`results.labels`), never from constants here.
 */
export function modelDevice(model: JobResults['model']): Device {
  return {
    resourceType: 'Device',
    identifier: [{ system: MODEL_SYSTEM, value: safeIdValue(`${model.name}@${model.version}`) }],
    status: 'active',
    deviceName: [{ name: model.name, type: 'model-name' }],
    version: [{ value: model.version }],
    type: { text: 'Image segmentation software (auto-contouring model)' },
  };
}

export function resultIdentifierValue(jobKey: string, part: string): string {
  return safeIdValue(`${jobKey}/${part}`);
}

// SNOMED CT 118565006 |Volume (property)|, the concept DICOM TID 1411 uses for a volume measurement.
const VOLUME = { system: SNOMED, code: '118565006', display: 'Volume' };
const IMAGING = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' }] };

/**
 * A structure cut by the scan's superior/inferior end: the number is the volume inside the field of
 * view, not the organ's. Said in the Observation's code text, an interpretation and a note, so no
 * reader takes it for the lung volume (R4 Observation.interpretation / .note).
 */
const PARTIAL_TEXT = 'partial coverage: the structure extends beyond the scanned field of view; this is the volume inside it, not the whole structure';
const partialOf = (results: JobResults, roi: string) => results.coverage?.[roi] === 'partial';
function partial(o: Observation, what: string): Observation {
  return {
    ...o,
    code: { ...o.code, text: `${what} within the scanned field of view (partial coverage)` },
    interpretation: [{ text: PARTIAL_TEXT }],
    note: [{ text: `${what}: ${PARTIAL_TEXT}.` }],
  };
}

/** One Observation per labelled structure with a volume, plus the total, in mL (UCUM `mL`). */
export function volumeObservations(item: WorkItem, results: JobResults, device: Reference, effective: string): Observation[] {
  const out: Observation[] = [];
  const base = (part: string, text: string, ml: number): Observation => ({
    resourceType: 'Observation',
    identifier: [{ system: RESULT_SYSTEM, value: resultIdentifierValue(results.jobKey, part) }],
    status: 'final',
    category: [IMAGING],
    code: { coding: [VOLUME], text },
    ...(item.patient ? { subject: { reference: item.patient } } : {}),
    effectiveDateTime: effective,
    valueQuantity: { value: Math.round(ml * 10) / 10, unit: 'mL', system: UCUM, code: 'mL' },
    derivedFrom: [{ reference: item.imagingStudy }],
    device: device as Reference<Device>,
  });
  let total = 0;
  for (const label of results.labels) {
    const ml = results.volumesMl[label.roiName];
    if (ml === undefined) continue;
    total += ml;
    const o: Observation = { ...base(`volume/${label.roiName}`, `${label.roiName} volume`, ml), bodySite: conceptToFhir(label.concept) };
    out.push(partialOf(results, label.roiName) ? partial(o, `${label.roiName} volume`) : o);
  }
  const names = results.labels.filter((l) => results.volumesMl[l.roiName] !== undefined).map((l) => l.roiName);
  const totalObs = base('volume/total', `Total volume (${names.join(' + ')})`, total);
  out.push(names.some((n) => partialOf(results, n)) ? partial(totalObs, `Total volume (${names.join(' + ')})`) : totalObs);
  return out;
}

export function diagnosticReport(item: WorkItem, results: JobResults, observations: readonly Reference[], effective: string): DiagnosticReport {
  const lines = results.labels
    .filter((l) => results.volumesMl[l.roiName] !== undefined)
    .map((l) => {
      const ml = `${(Math.round((results.volumesMl[l.roiName] ?? 0) * 10) / 10).toFixed(1)} mL`;
      return `${l.concept.meaning} (${l.roiName}): ${partialOf(results, l.roiName) ? `${ml} within the field of view only (partial coverage, not the lung's volume)` : ml}`;
    });
  return {
    resourceType: 'DiagnosticReport',
    identifier: [{ system: RESULT_SYSTEM, value: resultIdentifierValue(results.jobKey, 'report') }],
    status: 'final',
    // v2-0074 diagnostic service section RAD; the report is an imaging one.
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' }], text: 'Imaging' }],
    code: { coding: [{ system: LOINC, code: '24627-2', display: 'Chest CT' }], text: 'CT chest: automatic lung segmentation' },
    ...(item.patient ? { subject: { reference: item.patient } } : {}),
    ...(item.serviceRequest ? { basedOn: [{ reference: item.serviceRequest }] } : {}),
    effectiveDateTime: effective,
    issued: effective,
    imagingStudy: [{ reference: item.imagingStudy }],
    result: observations as Reference<Observation>[],
    conclusion: `Automatic segmentation by ${results.model.name} ${results.model.version}${results.reviewer ? `, approved by ${results.reviewer}` : ''}. ${lines.join('; ')}.`,
    // R4 DiagnosticReport.presentedForm: the key image, so any FHIR viewer shows the contours.
    ...(results.keyImage
      ? { presentedForm: [{ contentType: 'image/png', title: results.keyImage.title, data: Buffer.from(results.keyImage.png).toString('base64') }] }
      : {}),
  };
}

/** The derived RTSTRUCT / SEG series to add to ImagingStudy.series (R4 ImagingStudy.series). */
export function derivedSeries(results: JobResults): ImagingStudySeries[] {
  const out: ImagingStudySeries[] = [];
  const add = (modality: 'RTSTRUCT' | 'SEG', sopClass: string, r: { seriesInstanceUid: string; sopInstanceUid: string }) =>
    out.push({
      uid: r.seriesInstanceUid,
      modality: modalityCoding(modality),
      description: `${modality} by ${results.model.name} ${results.model.version}`,
      numberOfInstances: 1,
      instance: [{ uid: r.sopInstanceUid, sopClass: { system: SOP_CLASS_SYSTEM, code: `urn:oid:${sopClass}` } }],
    });
  if (results.rtstruct) add('RTSTRUCT', RTSTRUCT_SOP_CLASS, results.rtstruct);
  if (results.seg) add('SEG', SEG_SOP_CLASS, results.seg);
  return out;
}

/**
 * ImagingStudy after the job: status `available` and the derived series added (by UID, so adding
 * twice is a no-op). Returns undefined when there is nothing to change. R4 defines `available` as
 * "instances associated with the study are available": moving registered → available once our
 * results are stored is this project's convention, not an R4 rule.
 */
export function studyWithResults(study: ImagingStudy, results: JobResults): ImagingStudy | undefined {
  assertStudyOpen(study);
  const series = [...(study.series ?? [])];
  let changed = study.status !== 'available';
  for (const s of derivedSeries(results)) {
    if (series.some((x) => x.uid === s.uid)) continue;
    series.push(s);
    changed = true;
  }
  if (!changed) return undefined;
  const modality = [...(study.modality ?? [])];
  for (const s of series) if (s.modality.code && !modality.some((m) => m.code === s.modality.code)) modality.push(s.modality);
  return {
    ...study,
    status: 'available',
    series,
    modality,
    numberOfSeries: series.length,
    numberOfInstances: series.reduce((n, s) => n + (s.numberOfInstances ?? s.instance?.length ?? 0), 0),
  };
}

/** Someone withdrew the study while the job ran: never bring it back to life. */
export function assertStudyOpen(study: ImagingStudy): void {
  if (study.status === 'cancelled' || study.status === 'entered-in-error') {
    throw new DfaError('FHIR_CONFLICT', `ImagingStudy/${study.id} is ${study.status}; results not attached`, { details: { status: study.status } });
  }
}

export function provenance(item: WorkItem, targets: readonly Reference[], device: Reference, recorded: string, reviewer?: string): Provenance {
  // R4 Provenance.agent: the model's Device performed; a person who approved the contours verified.
  const verifier = reviewer
    ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier', display: 'Verifier' }] }, who: { display: reviewer } }]
    : [];
  return {
    resourceType: 'Provenance',
    target: [...targets],
    recorded,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE', display: 'create' }] },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer', display: 'Performer' }] },
        who: device as Reference<Device>,
      },
      ...verifier,
    ],
    entity: [{ role: 'source', what: { reference: item.imagingStudy } }],
  };
}
