import { num, str, strs } from '../parse/attributes.ts';
import { hasPixelData } from '../parse/pixels.ts';
import type { ParsedDicom } from '../parse/read-part10.ts';

/** SOP classes (PS3.4 B.5) the selector knows by name. */
export const SOP = {
  CtImage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCtImage: '1.2.840.10008.5.1.4.1.1.2.1',
  LegacyEnhancedCtImage: '1.2.840.10008.5.1.4.1.1.2.2',
  MrImage: '1.2.840.10008.5.1.4.1.1.4',
  EnhancedMrImage: '1.2.840.10008.5.1.4.1.1.4.1',
  RtStructureSet: '1.2.840.10008.5.1.4.1.1.481.3',
  Segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
  XRayRadiationDoseSr: '1.2.840.10008.5.1.4.1.1.88.67',
} as const;

const VOLUME_SOP_CLASSES = new Set<string>([SOP.CtImage, SOP.EnhancedCtImage, SOP.LegacyEnhancedCtImage, SOP.MrImage, SOP.EnhancedMrImage]);

/** Instances of one series (grouped by SeriesInstanceUID). */
export interface SeriesGroup {
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly modality: string;
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  readonly instances: readonly ParsedDicom[];
}

export interface SkippedSeries {
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly seriesDescription?: string;
  readonly instanceCount: number;
  readonly reason: string;
  /** An image series that could have been used (another candidate), with its slice count. */
  readonly candidate?: boolean;
  readonly slices?: number;
}

export interface SeriesSelection {
  /** The chosen image series, with the instances that make up the volume (localizers removed). */
  readonly selected?: SeriesGroup;
  readonly skipped: readonly SkippedSeries[];
  /** Instances dropped from the selected series (e.g. a localizer filed in the same series), with reasons. */
  readonly droppedInstances: readonly { readonly source: string; readonly reason: string }[];
}

export function groupSeries(instances: readonly ParsedDicom[]): SeriesGroup[] {
  const by = new Map<string, ParsedDicom[]>();
  for (const p of instances) {
    const uid = str(p.dataset, 'SeriesInstanceUID') ?? '(no SeriesInstanceUID)';
    let list = by.get(uid);
    if (!list) by.set(uid, (list = []));
    list.push(p);
  }
  return [...by.entries()].map(([uid, list]) => {
    const ds = list[0].dataset;
    return {
      seriesInstanceUid: uid,
      studyInstanceUid: str(ds, 'StudyInstanceUID') ?? '',
      modality: str(ds, 'Modality') ?? '',
      seriesNumber: num(ds, 'SeriesNumber'),
      seriesDescription: str(ds, 'SeriesDescription'),
      instances: list,
    };
  });
}

/** Why one instance cannot be a slice of a volume, or undefined if it can. */
export function instanceRejection(p: ParsedDicom, modalities: readonly string[]): string | undefined {
  const ds = p.dataset;
  const sopClass = str(ds, 'SOPClassUID') ?? '';
  const modality = str(ds, 'Modality') ?? '';
  const imageType = strs(ds, 'ImageType').map((s) => s.toUpperCase());
  if (sopClass === SOP.RtStructureSet) return 'RT Structure Set (not an image)';
  if (sopClass === SOP.Segmentation) return 'Segmentation (not an image series to contour)';
  if (sopClass === SOP.XRayRadiationDoseSr || sopClass.startsWith('1.2.840.10008.5.1.4.1.1.88.')) return 'structured report (e.g. dose report)';
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.7')) return 'secondary capture (screenshot, not a reconstructable image)';
  // PS3.3 C.8.2.1.1.1: ImageType value 3 LOCALIZER marks a scout/topogram.
  if (imageType.includes('LOCALIZER')) return 'localizer (ImageType LOCALIZER)';
  if (!hasPixelData(p)) return 'no pixel data';
  if (!modalities.includes(modality)) return `modality ${modality || '(none)'} is not ${modalities.join('/')}`;
  if (!VOLUME_SOP_CLASSES.has(sopClass)) return `SOP class ${sopClass} is not a cross-sectional image`;
  return undefined;
}

/**
 * Pick the series to turn into a volume: image instances of an allowed modality (CT by default),
 * ORIGINAL before DERIVED (reformats), then the series with the most slices; every other series is returned with the reason it was
 * skipped (a value, not an error: a study with only a localizer and a dose report is an outcome).
 */
export function selectImageSeries(
  groups: readonly SeriesGroup[],
  opts: { modalities?: readonly string[]; seriesInstanceUid?: string } = {},
): SeriesSelection {
  const modalities = opts.modalities ?? ['CT'];
  const skipped: SkippedSeries[] = [];
  const candidates: { group: SeriesGroup; slices: number; dropped: { source: string; reason: string }[]; original: boolean }[] = [];
  for (const g of groups) {
    const skip = (reason: string) =>
      skipped.push({ seriesInstanceUid: g.seriesInstanceUid, modality: g.modality, seriesDescription: g.seriesDescription, instanceCount: g.instances.length, reason });
    if (opts.seriesInstanceUid && g.seriesInstanceUid !== opts.seriesInstanceUid) {
      skip('not the requested series');
      continue;
    }
    const kept: ParsedDicom[] = [];
    const dropped: { source: string; reason: string }[] = [];
    const reasons = new Map<string, number>();
    for (const p of g.instances) {
      const why = instanceRejection(p, modalities);
      if (why) {
        dropped.push({ source: p.source, reason: why });
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      } else kept.push(p);
    }
    if (kept.length === 0) {
      skip([...reasons.keys()].join('; '));
      continue;
    }
    const slices = kept.reduce((n, p) => n + (num(p.dataset, 'NumberOfFrames') ?? 1), 0);
    // PS3.3 C.7.6.1.1.2: ORIGINAL images come from the scan; DERIVED ones (MPR, MIP) are reformats.
    const original = kept.some((p) => (strs(p.dataset, 'ImageType')[0] ?? '').toUpperCase() === 'ORIGINAL');
    candidates.push({ group: { ...g, instances: kept }, slices, dropped, original });
  }
  candidates.sort((a, b) => Number(b.original) - Number(a.original) || b.slices - a.slices);
  const [best, ...rest] = candidates;
  for (const c of rest) {
    skipped.push({
      seriesInstanceUid: c.group.seriesInstanceUid,
      modality: c.group.modality,
      seriesDescription: c.group.seriesDescription,
      instanceCount: c.group.instances.length,
      candidate: true,
      slices: c.slices,
      reason:
        best.original && !c.original
          ? `derived images (reformat); the ORIGINAL ${best.group.modality} series is used`
          : `another ${c.group.modality} series has more slices (${best.slices} vs ${c.slices})`,
    });
  }
  return { selected: best?.group, skipped, droppedInstances: best?.dropped ?? [] };
}
