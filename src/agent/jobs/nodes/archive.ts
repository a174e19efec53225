import { need, type JobNode } from '../context.ts';

/**
 * archive: the job's results into the results archive (src/storage/archive.ts) — RTSTRUCT / SEG,
 * previews and the record of inputs → outputs — once everything is stored and recorded in FHIR.
 * Re-executed after a crash, it rewrites the same keys and the same index row.
 */
export const archiveResults: JobNode = async (state, { archive }) => {
  if (!archive) return {};
  const seg = need(state.seg, 'seg');
  const series = need(state.series, 'series');
  const fhir = [...(state.task ? [state.task] : []), ...(state.fhir?.written.map((w) => w.reference) ?? [])];
  await archive.record({
    record: {
      jobKey: state.jobKey,
      studyInstanceUid: state.item.studyInstanceUid,
      ...(state.volumeRef?.patientId ? { patientId: state.volumeRef.patientId } : {}),
      imagingStudy: state.item.imagingStudy,
      inputs: { seriesInstanceUids: [series.seriesInstanceUid] },
      model: seg.model,
      qc: { ok: seg.qc.ok, fallbackUsed: seg.fallbackUsed, ...(seg.fallbackReason ? { fallbackReason: seg.fallbackReason } : {}) },
      ...(seg.coverage ? { coverage: seg.coverage } : {}),
      volumesMl: seg.volumesMl,
      timingsMs: state.timingsMs,
      fhir: [...new Set(fhir)],
      ...(state.review?.decision === 'approve' ? { reviewer: state.review.reviewer } : {}),
    },
    ...(state.rtstruct ? { rtstruct: { seriesInstanceUid: state.rtstruct.seriesInstanceUid, sopInstanceUid: state.rtstruct.sopInstanceUid, from: state.rtstruct.key } } : {}),
    ...(state.segObject ? { seg: { seriesInstanceUid: state.segObject.seriesInstanceUid, sopInstanceUid: state.segObject.sopInstanceUid, from: state.segObject.key } } : {}),
    previews: (state.previews ?? []).map((p) => ({ name: p.name, from: p.key })),
  });
  return {};
};
