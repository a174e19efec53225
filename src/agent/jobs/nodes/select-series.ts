import type { RetrievedInstance } from '../../../core/ports.ts';
import { jobPrefix, type JobNode } from '../context.ts';

// PS3.4 B.5: CT Image Storage and Enhanced CT Image Storage.
const CT_IMAGE_SOP_CLASSES = new Set(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.2.1']);

/**
 * selectSeries: the CT image series to contour — the one with most CT image instances (localisers
 * and dose reports are other SOP classes or tiny series). Series choice is data, not code: a later
 * rule set can replace this one function.
 */
export const selectSeries: JobNode = async (state, { deps }) => {
  const raw = await deps.artifacts.get(`${jobPrefix(state)}/instances.json`);
  // `key`: the file's artifact key (instance lists written by earlier versions have only `path`).
  const instances = JSON.parse(new TextDecoder().decode(raw)) as (Omit<RetrievedInstance, 'path'> & { key?: string; path?: string })[];
  const bySeries = new Map<string, string[]>();
  for (const i of instances) {
    const file = i.key ?? i.path;
    if (!file || !CT_IMAGE_SOP_CLASSES.has(i.sopClassUid)) continue;
    const files = bySeries.get(i.seriesInstanceUid) ?? [];
    files.push(file);
    bySeries.set(i.seriesInstanceUid, files);
  }
  const best = [...bySeries.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (!best) {
    return { outcome: { status: 'failed', step: 'selectSeries', reason: `no CT image instances among ${instances.length} retrieved` } };
  }
  return { series: { seriesInstanceUid: best[0], files: best[1].sort() } };
};
