import type { Finding, Scenario } from './synth-extras.ts';

/**
 * The synthetic trap and pathology cases the lung U-Net is judged on (issue 9): the training generator
 * (synth-chest.ts) with seeds no training set uses (9,000,001+), each finding forced on. Used by
 * ml/train/eval-traps.ts and `npm run bench:ml` (bench/support/unet.ts).
 */
export const SYNTH_TRAPS: readonly { name: string; seed: number; scenario: Scenario; force: readonly Finding[] }[] = [
  { name: 'gastric bubble', seed: 9_000_001, scenario: 'chest', force: ['gastric'] },
  { name: 'free air + colon', seed: 9_000_002, scenario: 'chest', force: ['freeAir', 'colon'] },
  { name: 'abdomen + lung bases', seed: 9_000_003, scenario: 'abdomen-bases', force: ['gastric', 'colon'] },
  { name: 'abdomen + lung bases, free air', seed: 9_000_004, scenario: 'abdomen-bases', force: ['freeAir', 'colon'] },
  { name: 'abdomen, no lung', seed: 9_000_011, scenario: 'abdomen-no-lung', force: ['gastric', 'colon', 'freeAir'] },
  { name: 'consolidation', seed: 9_000_021, scenario: 'chest', force: ['consolidation'] },
  { name: 'pleural tumour', seed: 9_000_022, scenario: 'chest', force: ['tumour'] },
  { name: 'ground glass', seed: 9_000_023, scenario: 'chest', force: ['ggo'] },
  { name: 'bullae', seed: 9_000_024, scenario: 'chest', force: ['bullae'] },
  { name: 'effusion', seed: 9_000_025, scenario: 'chest', force: ['effusion'] },
];

