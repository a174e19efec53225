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
} as const;
export type Tissue = (typeof T)[keyof typeof T];
export const TISSUE_COUNT = 21;

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
];

/** Arbitrary T1-weighted-like intensities for the MR variant (no physical unit). */
export const MR_SIGNAL: readonly number[] = [0, 900, 350, 450, 30, 30, 150, 150, 400, 0, 250, 0, 0, 60, 700, 200, 500, 150, 550, 0, 0];

/**
 * Ground-truth structures (TG-263 names) and the tissues each contains. Lungs include their
 * vessels (as clinical lung contours do) but not the main bronchi.
 */
export const TRUTH_STRUCTURES: Readonly<Record<string, readonly Tissue[]>> = {
  Body: [T.FAT, T.MUSCLE, T.SOFT, T.LUNG_L, T.LUNG_R, T.VESSEL_L, T.VESSEL_R, T.HEART, T.TRACHEA, T.AIRWAY_WALL, T.BRONCHUS_L, T.BRONCHUS_R, T.BONE, T.MARROW, T.CANAL, T.DISC, T.AORTA, T.LIVER],
  Lung_L: [T.LUNG_L, T.VESSEL_L],
  Lung_R: [T.LUNG_R, T.VESSEL_R],
  Heart: [T.HEART],
  Trachea: [T.TRACHEA],
  Bronchus_L: [T.BRONCHUS_L],
  Bronchus_R: [T.BRONCHUS_R],
  SpinalCanal: [T.CANAL],
  Liver: [T.LIVER],
};
