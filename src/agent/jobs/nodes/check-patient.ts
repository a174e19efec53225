import { need, type JobNode } from '../context.ts';

/**
 * checkPatient: the DICOM PatientID must be one of the FHIR Patient's identifiers, or results would
 * be filed against the wrong person. A mismatch (DfaError FHIR_PATIENT_MISMATCH) fails the job.
 */
export const checkPatient: JobNode = async (state, { deps }) => {
  const v = need(state.volumeRef, 'volumeRef');
  await deps.fhir.checkPatient(state.item, v.patientId);
  return {};
};
