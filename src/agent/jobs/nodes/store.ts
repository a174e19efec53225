import { DfaError } from '../../../core/errors.ts';
import { jobPrefix, type JobNode } from '../context.ts';
import type { JobState } from '../state.ts';

function outputs(state: JobState) {
  return [state.rtstruct, state.segObject].filter((o) => o !== undefined);
}

/**
 * store: our objects to the PACS (C-STORE or STOW-RS as configured). A refused instance is a fault
 * worth retrying (the node's retry policy); storing again is harmless — same SOP Instance UIDs.
 */
export const store: JobNode = async (state, { deps }) => {
  const outs = outputs(state);
  if (outs.length === 0) return { stored: [] };
  const dir = await deps.artifacts.dir(`${jobPrefix(state)}/out`);
  const files = outs.map((o) => `${dir}/${o.key.split('/').pop()}`);
  const res = await deps.pacs.store(files);
  const bad = res.filter((r) => !r.ok);
  if (bad.length > 0) {
    const why = bad.map((b) => `${b.sopInstanceUid}: status ${b.status}${b.reason ? ` ${b.reason}` : ''}`).join('; ');
    throw new DfaError('STORE_FAILED', `PACS refused ${bad.length} object(s): ${why}`);
  }
  return { stored: outs.map((o) => o.sopInstanceUid) };
};

/** verifyStored: ask the PACS for each object we stored (a store response alone is not proof). */
export const verifyStored: JobNode = async (state, { deps }) => {
  for (const o of outputs(state)) {
    const found = await deps.pacs.findInstances(state.item.studyInstanceUid, o.seriesInstanceUid);
    if (!found.some((i) => i.sopInstanceUid === o.sopInstanceUid)) {
      throw new DfaError('STORE_FAILED', `PACS does not list ${o.sopInstanceUid} after storing it`);
    }
  }
  return { verified: true };
};
