import type { VolumeMeta } from '../core/volume.ts';

/**
 * Every QC limit, in one place, with where it comes from. These are plausibility bounds for an
 * automatic contour, deliberately wider than reference intervals (they must pass expiratory scans,
 * emphysema and disease, and fail what no lung can be); a result outside them goes to a person.
 *
 * Lung volume at CT: a full-inspiration CT measures about total lung capacity (TLC), an
 * expiratory one about functional residual capacity (FRC).
 * - Adults: TLC 4–8 L (5th–95th percentile, by height, sex and age), FRC 2–4 L — GLI static lung
 *   volume reference equations, Hall GL et al., Eur Respir J 2021;57:2000289. The right lung (three
 *   lobes) holds a little more than half of the total, the heart lies left: left/right is a bit
 *   under 1. Bounds: each complete lung 500–5000 mL, both 1000–9000 mL, left/right 0.5–2.
 * - Children: TLC rises from about 0.15–0.2 L at birth (Stocks & Quanjer, Eur Respir J 1995;8:492)
 *   to adult values by about 18 years (GLI 2021 starts at 5 years, TLC ≈ 1.5 L at 110 cm).
 *   Bands by age, each wide enough for height spread and expiration.
 * Unknown age ⇒ adult limits, and the result says so (never assumed silently).
 */
export interface LungQcLimits {
  /** Each complete lung's volume (mL). A cut lung only gets the upper bound. */
  readonly lungMl: readonly [number, number];
  /** Both lungs together (mL), when both are complete. */
  readonly totalMl: readonly [number, number];
  /** Volume of the first label over the second (left/right), when both are complete. */
  readonly ratio: readonly [number, number];
  /** Components holding at least `componentMinFraction` of a lung; a lung is one piece, two tolerated. */
  readonly maxComponents: number;
  readonly componentMinFraction: number;
  /** Share of a lung's voxels on the in-plane faces of the volume (a leak out of the body, or a cut field of view). */
  readonly maxBorderFraction: number;
  /** A lung with more than this area (mm²) on the first or last slice is cut by the scan: partial coverage. */
  readonly coverageAreaMm2: number;
  /** Less than this (mL) of lung in all: no lung in the field of view. */
  readonly noLungMl: number;
  /** Airless tissue enclosed by a lung but outside every contour (qc-cavity.ts): fails above both. */
  readonly missedMl: number;
  readonly missedFraction: number;
  /** Share of a lung's voxels in the adipose range (−190…−30 HU): fat counted as lung (qc.ts). */
  readonly maxFatFraction: number;
}

export type Population = 'adult' | 'adolescent' | 'child' | 'infant';

export interface QcLimitsChoice {
  readonly population: Population;
  /** Why these limits: "patient age 45 y (from PatientBirthDate and StudyDate)" or "age unknown: adult limits". */
  readonly basis: string;
  readonly limits: LungQcLimits;
}

/**
 * Fat inside a lung contour: adipose tissue is −190…−30 HU (the usual CT fat window, e.g. Kvist et al.,
 * Am J Clin Nutr 1988); lung holds almost none (a focal lipoid pneumonia or hamartoma is a few mL).
 * Measured with the reference masks: 0.1 % (cip64), 0.7–0.8 % (imlab id001/id002), 0 on every phantom
 * scenario incl. the consolidated and collapsed lobes; a segmenter that counts fat as lung (threshold at
 * 0 HU): 35–38 %. The limit sits 12× above real lung and 3.5× below that failure; noise and partial
 * volume of a dense lobe on a low-dose scan add a few %.
 */
const FAT_FRACTION = 0.1;

/**
 * Missed tissue as a share of the lung (missed / (missed + contoured)); a lung fails when it is over
 * both this and the mL bound below. A lower lobe collapsed against the spine keeps about a tenth of
 * the lung's volume (phantom atelectasis: a 314 mL wedge, 10.0 % of the right lung, which the 10 %
 * share formerly let through whether a segmenter left it out or not; the shipped U-Net leaves it
 * out too). On correct contours the share was at most 1.8 %: 0–0.7 % on the three real CTs (their
 * reference masks and the classical and U-Net output), 0–1.8 % on the classical output of every
 * phantom (the highest: 60 mL by the right lung of consolidation-left, mediastinum beside the
 * contoured left base). 5 % sits 2.8× above that and 2× below the collapsed lobe.
 */
const MISSED_FRACTION = 0.05;

const SHAPE = { maxComponents: 2, componentMinFraction: 0.01, maxBorderFraction: 0.02, coverageAreaMm2: 100, noLungMl: 5, missedFraction: MISSED_FRACTION, maxFatFraction: FAT_FRACTION };

/**
 * Missed-tissue bound: measured on the three real CTs in ../shared/testdata with their reference
 * masks and with the classical segmenter, airless tissue outside the contour was 0–15 mL per lung
 * enclosed by it (qc-cavity.ts: hilar vessels, fissures, small scars) and 0–30 mL between it, the
 * chest wall and the diaphragm (qc-dense.ts); 0 on every healthy phantom. A lobar consolidation is
 * several hundred mL (the phantom's right lower lobe left out: 813 mL; left: 765 mL; the collapsed
 * right lower lobe: 314 mL).
 */
export const LUNG_QC_LIMITS: Readonly<Record<Population, LungQcLimits>> = {
  adult: { ...SHAPE, lungMl: [500, 5000], totalMl: [1000, 9000], ratio: [0.5, 2], missedMl: 200 },
  adolescent: { ...SHAPE, lungMl: [300, 4500], totalMl: [600, 8000], ratio: [0.5, 2], missedMl: 150 }, // 12–17 y
  child: { ...SHAPE, lungMl: [60, 3000], totalMl: [120, 5500], ratio: [0.4, 2.5], missedMl: 80 }, // 2–11 y
  infant: { ...SHAPE, lungMl: [20, 800], totalMl: [40, 1500], ratio: [0.4, 2.5], missedMl: 20, noLungMl: 2 }, // < 2 y
};

/** Age in whole years at the study from DICOM PatientBirthDate / StudyDate (DA, YYYYMMDD; PS3.5 6.2), or undefined. */
export function patientAgeYears(meta: Pick<VolumeMeta, 'patientBirthDate' | 'studyDate'>): number | undefined {
  const d = (s?: string) => {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec((s ?? '').trim());
    return m ? { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) } : undefined;
  };
  const b = d(meta.patientBirthDate);
  const s = d(meta.studyDate);
  if (!b || !s) return undefined;
  const age = s.y - b.y - (s.m < b.m || (s.m === b.m && s.d < b.d) ? 1 : 0);
  return age >= 0 && age < 130 ? age : undefined;
}

/** The limits for this patient: by age when it is known, else adult limits, saying so. */
export function qcLimitsFor(meta: Pick<VolumeMeta, 'patientBirthDate' | 'studyDate'> | undefined): QcLimitsChoice {
  // Anonymisers often set the birth date to the study date: that is no age.
  if (meta?.patientBirthDate && meta.patientBirthDate.trim() === meta.studyDate?.trim()) {
    return { population: 'adult', basis: 'age unknown (PatientBirthDate equals StudyDate, anonymised?): adult limits', limits: LUNG_QC_LIMITS.adult };
  }
  const age = meta ? patientAgeYears(meta) : undefined;
  if (age === undefined) return { population: 'adult', basis: 'age unknown (no PatientBirthDate/StudyDate): adult limits', limits: LUNG_QC_LIMITS.adult };
  const population: Population = age < 2 ? 'infant' : age < 12 ? 'child' : age < 18 ? 'adolescent' : 'adult';
  return { population, basis: `patient age ${age} y (PatientBirthDate, StudyDate): ${population} limits`, limits: LUNG_QC_LIMITS[population] };
}
