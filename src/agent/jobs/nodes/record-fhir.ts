import { need, type JobNode } from '../context.ts';

/**
 * recordFhir: DiagnosticReport + Observations (lung volumes), Provenance, ImagingStudy → available.
 * The FHIR side makes these conditional / version-checked, so a re-execution adds nothing.
 */
export const recordFhir: JobNode = async (state, { deps }) => {
  if (!state.plan.outputs.fhirReport) return {};
  const seg = need(state.seg, 'seg');
  const r = await deps.fhir.recordResults(state.item, {
    jobKey: state.jobKey,
    rtstruct: state.rtstruct && { seriesInstanceUid: state.rtstruct.seriesInstanceUid, sopInstanceUid: state.rtstruct.sopInstanceUid },
    seg: state.segObject && { seriesInstanceUid: state.segObject.seriesInstanceUid, sopInstanceUid: state.segObject.sopInstanceUid },
    sourceSeriesInstanceUid: need(state.series, 'series').seriesInstanceUid,
    volumesMl: seg.volumesMl,
    labels: seg.labels,
    model: seg.model,
    ...(seg.coverage ? { coverage: seg.coverage } : {}),
  });
  return { fhir: { diagnosticReport: r.diagnosticReport, provenance: r.provenance, written: r.written } };
};
