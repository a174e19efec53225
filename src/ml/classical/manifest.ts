import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DfaError } from '../../core/errors.ts';
import { labelInfoSchema, loadManifestSync, manifestBaseSchema, SHIPPED_MODELS_DIR } from '../manifest.ts';

/**
 * The classical lung model's manifest: the base manifest plus which label is which lung (by
 * laterality, so no ROI name or code is written in code) and the algorithm's parameters. Every
 * size is in millimetres so the same parameters hold for 4 mm and 0.6 mm voxels.
 */
export const classicalParamsSchema = z.object({
  /** Tissue threshold for the body mask (HU). */
  bodyHu: z.number().default(-500),
  /** Air threshold for lung parenchyma inside the body (HU). */
  lungHu: z.number().default(-500),
  /** The airway lumen is tracked below this HU: tighter than lungHu, so partial-volume voxels between trachea and lung do not join them. */
  airwayHu: z.number().default(-900),
  /** The lumen's partial-volume rim removed with it (mm, in-plane). */
  airwayRimMm: z.number().nonnegative().default(3),
  /** A trachea / main bronchus cross-section is at most this large; larger means merged with lung. */
  airwayMaxAreaMm2: z.number().positive().default(900),
  airwayMinAreaMm2: z.number().nonnegative().default(20),
  /** A tracked airway shorter than this (head-foot) is an air pocket, not the trachea. */
  airwayMinLengthMm: z.number().nonnegative().default(30),
  /** The trachea starts within this distance (left-right) of the body's centre. */
  airwayMaxOffsetMm: z.number().positive().default(35),
  /** An air component with more than half its voxels below this (HU) is gas, not lung (gas.ts). */
  gasHu: z.number().default(-950),
  /** Larger in-slice holes are filled when their mean is below this (HU): ground glass is lung. */
  ggoHu: z.number().default(-250),
  /** Dense-lung recovery (dense-lung.ts): densest lung tissue (HU), fluid below this mean (HU), shortest run (mm), largest bronchogram (mm²). */
  denseMaxHu: z.number().default(150),
  fluidMaxHu: z.number().default(20),
  minDenseMm: z.number().nonnegative().default(6),
  bronchogramMaxMm2: z.number().nonnegative().default(150),
  mediastinumMm: z.number().nonnegative().default(40),
  denseFloorMm: z.number().nonnegative().default(25),
  /** Air components smaller than this fraction of the largest are not lung (bowel, oesophagus). */
  minLungFraction: z.number().min(0).max(1).default(0.1),
  /** A lung reaches up to within this distance of the other lung's apex; bowel gas does not. */
  apexToleranceMm: z.number().positive().default(80),
  /**
   * Largest in-slice hole (mm²) filled as lung: vessels and bronchi inside the lung are filled, the
   * liver or heart dome that the lung wraps around (also a hole in an axial slice) is not.
   */
  maxHoleMm2: z.number().positive().default(800),
  /** Closing radius applied per lung after hole filling (0 = none). */
  closingMm: z.number().nonnegative().default(0),
});
export type ClassicalParams = z.infer<typeof classicalParamsSchema>;

export const classicalManifestSchema = manifestBaseSchema.extend({
  kind: z.literal('classical'),
  labels: z.array(labelInfoSchema.extend({ laterality: z.enum(['left', 'right']) })).length(2),
  params: classicalParamsSchema.default(classicalParamsSchema.parse({})),
});
export type ClassicalLungManifest = z.infer<typeof classicalManifestSchema>;

export const CLASSICAL_LUNG_MANIFEST_PATH = fileURLToPath(new URL('classical-lung/manifest.json', SHIPPED_MODELS_DIR));

/** The shipped manifest (models/classical-lung/manifest.json), validated. */
export function shippedClassicalManifest(): ClassicalLungManifest {
  return loadManifestSync(CLASSICAL_LUNG_MANIFEST_PATH, classicalManifestSchema);
}

/** Label values of the left and right lung. */
export function lungLabelValues(m: ClassicalLungManifest): { left: number; right: number } {
  const left = m.labels.find((l) => l.laterality === 'left');
  const right = m.labels.find((l) => l.laterality === 'right');
  if (!left || !right) throw new DfaError('MODEL_INVALID', `model ${m.name} needs one left and one right lung label`);
  return { left: left.value, right: right.value };
}
