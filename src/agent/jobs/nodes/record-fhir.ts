import { need, type JobNode } from '../context.ts';
import { KEY_IMAGE } from './previews.ts';

/**
 * recordFhir: DiagnosticReport + Observations (lung volumes), Provenance, ImagingStudy → available.
 * The FHIR side makes these conditional / version-checked, so a re-execution adds nothing.
 */
export const recordFhir: JobNode = async (state, { deps }) => {
  if (!state.plan.outputs.fhirReport) return {};
  const seg = need(state.seg, 'seg');
  const keyImage = state.previews?.find((p) => p.name === KEY_IMAGE);
  const r = await deps.fhir.recordResults(state.item, {
    jobKey: state.jobKey,
    rtstruct: state.rtstruct && { seriesInstanceUid: state.rtstruct.seriesInstanceUid, sopInstanceUid: state.rtstruct.sopInstanceUid },
    seg: state.segObject && { seriesInstanceUid: state.segObject.seriesInstanceUid, sopInstanceUid: state.segObject.sopInstanceUid },
    sourceSeriesInstanceUid: need(state.series, 'series').seriesInstanceUid,
    volumesMl: seg.volumesMl,
    labels: seg.labels,
    model: seg.model,
    ...(seg.coverage ? { coverage: seg.coverage } : {}),
    ...(state.review?.decision === 'approve' ? { reviewer: state.review.reviewer } : {}),
    ...(keyImage ? { keyImage: { title: `${keyImage.name}: contours by ${seg.model.name} ${seg.model.version}`, png: await deps.artifacts.get(keyImage.key) } } : {}),
  });
  return { fhir: { diagnosticReport: r.diagnosticReport, provenance: r.provenance, written: r.written } };
};
