import type { WorkItem } from '../core/ports.ts';
import { maskMrn, showName } from '../core/phi.ts';

/**
 * Who and what a job is about, for the person deciding (dry-run list, run summary, jobs, API):
 * the patient (MRN masked unless showPhi), accession, study date, description, and the image
 * series with their slice counts.
 */
export interface StudyWho {
  readonly patient: string; // '***4567' unless showPhi
  readonly patientName?: string; // 'D. J.' unless showPhi
  readonly accession?: string;
  readonly studyDate?: string;
  readonly description?: string;
  readonly series: readonly { readonly uid: string; readonly modality: string; readonly description?: string; readonly slices?: number }[];
}

export function whoOf(item: Partial<WorkItem> | undefined, showPhi = false): StudyWho {
  const name = showName(item?.patientName, showPhi);
  return {
    patient: maskMrn(item?.patientMrn, showPhi),
    ...(name ? { patientName: name } : {}),
    ...(item?.accessionNumber ? { accession: item.accessionNumber } : {}),
    ...(item?.started ? { studyDate: item.started.slice(0, 10) } : {}),
    ...(item?.description ? { description: item.description } : {}),
    series: (item?.series ?? []).map((s) => ({
      uid: s.uid,
      modality: s.modality,
      ...(s.description ? { description: s.description } : {}),
      ...(s.instances !== undefined ? { slices: s.instances } : {}),
    })),
  };
}

/** One line for people: "patient ***4567 (D. J.), accession A123, 2026-11-24, CT CHEST". */
export function whoLine(w: StudyWho): string {
  return [
    `patient ${w.patient}${w.patientName ? ` (${w.patientName})` : ''}`,
    w.accession ? `accession ${w.accession}` : 'no accession',
    w.studyDate ?? 'no study date',
    w.description ?? '',
  ].filter(Boolean).join(', ');
}

/** The image series of a study for people: "CT 'Synthetic chest CT' 60 slices". */
export function seriesLine(w: StudyWho, modality?: string): string {
  const list = w.series.filter((s) => !modality || s.modality === modality);
  return list.map((s) => `${s.modality}${s.description ? ` '${s.description}'` : ''}${s.slices !== undefined ? ` ${s.slices} slices` : ''}`).join('; ');
}
