import { ANY_STATUS } from '../../plan-query.ts';
import type { JobNode } from '../context.ts';

/**
 * find: re-read the study's work item from FHIR (it may have changed since the run queued it) and
 * check with the PACS that there is something our pipeline can read. A study with no series of the
 * plan's modality (an MR study) is skipped here, before anything is written: no Task is created,
 * FHIR and the PACS are left untouched.
 */
export const find: JobNode = async (state, { deps }) => {
  const { plan, item } = state;
  const found = await deps.fhir.findWork({
    status: plan.selection.status === 'any' ? ANY_STATUS : plan.selection.status,
    studyInstanceUid: item.studyInstanceUid,
  });
  const fresh = found.find((w) => w.studyInstanceUid === item.studyInstanceUid);
  if (!fresh && !plan.rerun) {
    return { outcome: { status: 'skipped', step: 'find', reason: `no longer ${plan.selection.status} in FHIR` } };
  }
  const current = fresh ?? item;
  const modality = plan.selection.modality;
  const series = await deps.pacs.findSeries(current.studyInstanceUid);
  if (series.length === 0) {
    return { item: current, outcome: { status: 'failed', step: 'find', reason: 'study not found in the PACS' } };
  }
  if (!series.some((s) => s.modality === modality)) {
    const have = [...new Set(series.map((s) => s.modality))].join(', ');
    return { item: current, outcome: { status: 'skipped', step: 'find', reason: `no ${modality} series (study has ${have})` } };
  }
  return { item: current };
};
