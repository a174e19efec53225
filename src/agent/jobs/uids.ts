import { deterministicUid } from '../../core/uid.ts';

/**
 * Output UIDs from (source series, model, model version, object kind): a step re-executed after a
 * crash writes the same SOP Instance UID again, so the PACS replaces rather than duplicates.
 * A new model version gives new objects (PS3.3 C.12.1.1.1: a changed object needs a new UID).
 */
export function outputUids(
  sourceSeriesUid: string,
  model: { name: string; version: string },
  kind: 'rtstruct' | 'seg',
): { seriesInstanceUid: string; sopInstanceUid: string } {
  return {
    seriesInstanceUid: deterministicUid('dfa-series', kind, sourceSeriesUid, model.name, model.version),
    sopInstanceUid: deterministicUid('dfa-sop', kind, sourceSeriesUid, model.name, model.version),
  };
}
