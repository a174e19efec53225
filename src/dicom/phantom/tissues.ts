/** Tissue classes of the synthetic chest phantom, their CT numbers and MR-like intensities. */
export const T = {
  AIR: 0,
  FAT: 1,
  MUSCLE: 2,
  SOFT: 3,
  LUNG_L: 4,
  LUNG_R: 5,
  VESSEL_L: 6,
  VESSEL_R: 7,
  HEART: 8,
  TRACHEA: 9,
  AIRWAY_WALL: 10,
  BRONCHUS_L: 11,
  BRONCHUS_R: 12,
  BONE: 13,
  MARROW: 14,
  CANAL: 15,
  DISC: 16,
  AORTA: 17,
  LIVER: 18,
  TABLE: 19,
  TABLE_SKIN: 20,
  // traps and pathology (abnormal.ts); none of them occurs in the default phantom
  BOWEL_GAS: 21,
  FREE_AIR: 22,
  GASTRIC_GAS: 23,
  BOWEL_WALL: 24,
  GASTRIC_FLUID: 25,
  CONSOLIDATION_L: 26,
  CONSOLIDATION_R: 27,
  BRONCHOGRAM_L: 28,
  BRONCHOGRAM_R: 29,
  TUMOUR_L: 30,
  TUMOUR_R: 31,
  GGO_L: 32,
  GGO_R: 33,
  BULLA_L: 34,
  BULLA_R: 35,
  EFFUSION: 36,
} as const;
export type Tissue = (typeof T)[keyof typeof T];
export const TISSUE_COUNT = 37;

/** Typical unenhanced CT numbers (HU). */
export const CT_HU: readonly number[] = [
  -1000, // air
  -100, // fat
  45, // muscle
  35, // soft tissue / mediastinum
  -850, // lung L
  -850, // lung R
  40, // vessel (blood)
  40,
  40, // heart
  -1000, // tracheal lumen
  80, // airway wall (cartilage)
  -1000, // bronchus lumen
  -1000,
  700, // cortical bone
  250, // cancellous bone / marrow
  15, // CSF in the spinal canal
  80, // intervertebral disc
  40, // aorta
  60, // liver
  -600, // table core (foam)
  300, // table skin (carbon fibre)
  -1000, // bowel gas
  -1000, // free intraperitoneal air
  -1000, // gastric gas
  40, // bowel / stomach wall
  15, // gastric fluid
  38, // consolidated / atelectatic lung (unenhanced)
  38,
  -950, // air bronchogram
  -950,
  40, // tumour
  40,
  -450, // ground-glass opacity
  -450,
  -990, // emphysema bulla
  -990,
  8, // pleural effusion (simple fluid, 0–20 HU)
];

/** Arbitrary T1-weighted-like intensities for the MR variant (no physical unit). */
export const MR_SIGNAL: readonly number[] = [0, 900, 350, 450, 30, 30, 150, 150, 400, 0, 250, 0, 0, 60, 700, 200, 500, 150, 550, 0, 0, 0, 0, 0, 350, 150, 300, 300, 0, 0, 400, 400, 120, 120, 0, 0, 120];

/**
 * Ground-truth structures (TG-263 names) and the tissues each contains. Lungs include their
 * vessels (as clinical lung contours do) but not the main bronchi.
 */
export const TRUTH_STRUCTURES: Readonly<Record<string, readonly Tissue[]>> = {
  Body: [T.BOWEL_GAS, T.FREE_AIR, T.GASTRIC_GAS, T.BOWEL_WALL, T.GASTRIC_FLUID, T.CONSOLIDATION_L, T.CONSOLIDATION_R, T.BRONCHOGRAM_L, T.BRONCHOGRAM_R, T.TUMOUR_L, T.TUMOUR_R, T.GGO_L, T.GGO_R, T.BULLA_L, T.BULLA_R, T.EFFUSION,
    T.FAT, T.MUSCLE, T.SOFT, T.LUNG_L, T.LUNG_R, T.VESSEL_L, T.VESSEL_R, T.HEART, T.TRACHEA, T.AIRWAY_WALL, T.BRONCHUS_L, T.BRONCHUS_R, T.BONE, T.MARROW, T.CANAL, T.DISC, T.AORTA, T.LIVER],
  Lung_L: [T.LUNG_L, T.VESSEL_L, T.CONSOLIDATION_L, T.BRONCHOGRAM_L, T.TUMOUR_L, T.GGO_L, T.BULLA_L],
  Lung_R: [T.LUNG_R, T.VESSEL_R, T.CONSOLIDATION_R, T.BRONCHOGRAM_R, T.TUMOUR_R, T.GGO_R, T.BULLA_R],
  Heart: [T.HEART],
  Trachea: [T.TRACHEA],
  Bronchus_L: [T.BRONCHUS_L],
  Bronchus_R: [T.BRONCHUS_R],
  SpinalCanal: [T.CANAL],
  Liver: [T.LIVER],
};

/**
 * Extra truth of the trap and pathology phantoms (present only when the options ask for them):
 * the gas that is not lung (FP of a segmenter is measured inside it), the effusion that must stay
 * outside the lung contour, and the pathology that must stay inside it.
 */
export const TRAP_STRUCTURES: Readonly<Record<string, readonly Tissue[]>> = {
  GasPockets: [T.BOWEL_GAS, T.FREE_AIR, T.GASTRIC_GAS],
  Effusion: [T.EFFUSION],
  Pathology: [T.CONSOLIDATION_L, T.CONSOLIDATION_R, T.BRONCHOGRAM_L, T.BRONCHOGRAM_R, T.TUMOUR_L, T.TUMOUR_R, T.GGO_L, T.GGO_R, T.BULLA_L, T.BULLA_R],
};
