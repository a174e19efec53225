import type { PhantomOptions } from './options.ts';

/**
 * Named phantoms for tests, benchmarks and training data: the traps (air that is not lung), the
 * pathology that stays inside (or, for an effusion, outside) the lung contour, and partial
 * coverage. Each carries what a correct segmenter must produce; the truth comes with the phantom
 * (`truth.Lung_L`, `truth.Lung_R`, and for these scenarios `GasPockets`, `Effusion`, `Pathology`).
 * Sizes are kept small (160², 2.5 mm pixels) so a test can run them all; pass other sizes on top.
 */
export interface PhantomScenario {
  readonly name: string;
  readonly description: string;
  readonly options: PhantomOptions;
  /** Which lungs are in the field of view (empty: a correct segmenter labels nothing). */
  readonly lungs: readonly ('Lung_L' | 'Lung_R')[];
  /** The scan's superior and/or inferior end cuts through the lungs. */
  readonly partial: boolean;
  readonly kind: 'trap' | 'pathology' | 'coverage';
}

const CHEST: PhantomOptions = { size: 160, slices: 90 };
const BOTH = ['Lung_L', 'Lung_R'] as const;

export const PHANTOM_SCENARIOS: readonly PhantomScenario[] = [
  {
    name: 'abdomen-lung-bases',
    description: 'abdomen slab (3 mm) holding only the lung bases, with colon, small-bowel and gastric gas',
    options: { size: 160, slices: 70, sliceSpacing: 3, centreZ: -190, traps: ['bowel-gas', 'gastric-bubble'], studyDescription: 'CT ABDOMEN (synthetic phantom)' },
    lungs: BOTH,
    partial: true,
    kind: 'trap',
  },
  {
    name: 'abdomen-no-lung',
    description: 'abdomen slab below the lungs: bowel gas and no lung at all',
    options: { size: 160, slices: 60, sliceSpacing: 3, centreZ: -330, traps: ['bowel-gas'], studyDescription: 'CT ABDOMEN (synthetic phantom)' },
    lungs: [],
    partial: false,
    kind: 'trap',
  },
  {
    name: 'gastric-bubble',
    description: 'chest with a large gastric air bubble under the left hemidiaphragm',
    options: { ...CHEST, traps: ['gastric-bubble'] },
    lungs: BOTH,
    partial: false,
    kind: 'trap',
  },
  {
    name: 'free-air',
    description: 'chest with free intraperitoneal air under both domes and along the anterior abdominal wall',
    options: { ...CHEST, traps: ['free-air'] },
    lungs: BOTH,
    partial: false,
    kind: 'trap',
  },
  {
    name: 'consolidation',
    description: 'right lower lobe consolidated (soft-tissue density, air bronchograms): about a third of the lung',
    options: { ...CHEST, pathology: ['consolidation'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'consolidation-left',
    description: 'left lower lobe consolidated (soft-tissue density, air bronchograms), behind the heart and on the left dome',
    options: { ...CHEST, pathology: ['consolidation-left'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'atelectasis',
    description: 'right lower lobe collapsed against the spine: a paravertebral wedge at soft-tissue density on the diaphragm',
    options: { ...CHEST, pathology: ['atelectasis'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'tumour-pleura',
    description: 'a 48 mm tumour against the lateral pleura of the left lung',
    options: { ...CHEST, pathology: ['tumour'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'ground-glass',
    description: 'a ground-glass opacity (−450 HU) in the right upper lung',
    options: { ...CHEST, pathology: ['ggo'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'emphysema-bullae',
    description: 'emphysema bullae (apical, subpleural, anterior) in both lungs',
    options: { ...CHEST, pathology: ['bullae'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'effusion',
    description: 'a right pleural effusion (dependent fluid crescent, 8 HU) that is not lung',
    options: { ...CHEST, pathology: ['effusion'] },
    lungs: BOTH,
    partial: false,
    kind: 'pathology',
  },
  {
    name: 'partial-coverage',
    description: 'chest whose field of view cuts both lungs (z −79..+89 mm: apices and bases out of view)',
    options: { size: 160, slices: 68, sliceSpacing: 2.5, centreZ: 5 },
    lungs: BOTH,
    partial: true,
    kind: 'coverage',
  },
];

export function phantomScenario(name: string): PhantomScenario | undefined {
  return PHANTOM_SCENARIOS.find((s) => s.name === name);
}
