import type { ModelManifest, QcCheck, QcResult } from '../core/model.ts';
import type { LabelMap } from '../core/volume.ts';
import { RunLabeler } from './morphology/runs.ts';
import { voxelVolumeMl } from '../core/volume.ts';

/**
 * Quality checks on a lung segmentation. A failed check is a value the orchestrator acts on (fall
 * back to another segmenter, flag for review), never an exception. Limits are adult-chest defaults
 * and can be overridden (paediatric or pneumonectomy work needs other ranges).
 */
export interface LungQcLimits {
  /** Each lung's volume (mL): adult lungs at CT hold about 1.5–3.5 L each. */
  readonly lungMl: readonly [number, number];
  /** Both lungs together (mL). */
  readonly totalMl: readonly [number, number];
  /** Volume of the first label over the second (left/right for the lung models). */
  readonly ratio: readonly [number, number];
  /** Components holding at least `componentMinFraction` of a lung; a lung is one piece, two tolerated. */
  readonly maxComponents: number;
  readonly componentMinFraction: number;
  /** Share of a lung's voxels on the faces of the volume; more means a cut-off field of view or a leak outside. */
  readonly maxBorderFraction: number;
}

export const DEFAULT_LUNG_QC_LIMITS: LungQcLimits = {
  lungMl: [500, 5000],
  totalMl: [1000, 9000],
  ratio: [0.5, 2],
  maxComponents: 2,
  componentMinFraction: 0.01,
  maxBorderFraction: 0.02,
};

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const range = (r: readonly [number, number]) => `${r[0]}–${r[1]}`;

export function qcLungs(labels: LabelMap, manifest: ModelManifest, limits: Partial<LungQcLimits> = {}): QcResult {
  const lim = { ...DEFAULT_LUNG_QC_LIMITS, ...limits };
  const checks: QcCheck[] = [];
  const shapes = new Map(manifest.labels.map((l) => [l.value, shape(labels, l.value, lim.componentMinFraction)]));
  const vols: Record<string, number> = {};
  for (const l of manifest.labels) vols[l.roiName] = shapes.get(l.value)!.voxels * voxelVolumeMl(labels);
  const inRange = (x: number, r: readonly [number, number]) => x >= r[0] && x <= r[1];

  for (const l of manifest.labels) {
    const ml = vols[l.roiName];
    checks.push({ name: `volume:${l.roiName}`, ok: inRange(ml, lim.lungMl), value: round(ml, 1), expected: `${range(lim.lungMl)} mL` });
  }
  const total = Object.values(vols).reduce((a, b) => a + b, 0);
  checks.push({ name: 'volume:total', ok: inRange(total, lim.totalMl), value: round(total, 1), expected: `${range(lim.totalMl)} mL` });
  if (manifest.labels.length === 2) {
    const [a, b] = manifest.labels;
    const ratio = vols[b.roiName] > 0 ? vols[a.roiName] / vols[b.roiName] : Infinity;
    checks.push({ name: `ratio:${a.roiName}/${b.roiName}`, ok: inRange(ratio, lim.ratio), value: Number.isFinite(ratio) ? round(ratio) : 'inf', expected: range(lim.ratio) });
  }
  for (const l of manifest.labels) {
    const { components, border } = shapes.get(l.value)!;
    checks.push({ name: `components:${l.roiName}`, ok: components >= 1 && components <= lim.maxComponents, value: components, expected: `1–${lim.maxComponents}` });
    checks.push({ name: `border:${l.roiName}`, ok: border <= lim.maxBorderFraction, value: round(border, 4), expected: `≤ ${lim.maxBorderFraction}` });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * Number of sizeable 6-connected components of one label, and the share of its voxels on the
 * volume's faces — both from one run-length labelling, no voxel-by-voxel flood.
 */
function shape(labels: LabelMap, value: number, minFraction: number): { voxels: number; components: number; border: number } {
  const [nx, ny, nz] = labels.dims;
  const rc = new RunLabeler().label(labels.data, nx, ny, nz, true, 0, value);
  let n = 0;
  let onBorder = 0;
  for (let r = 0; r < rc.nRuns; r++) {
    const len = rc.end[r] - rc.start[r];
    const k = (rc.line[r] / ny) | 0;
    const j = rc.line[r] - k * ny;
    n += len;
    if (j === 0 || j === ny - 1 || k === 0 || k === nz - 1) onBorder += len;
    else onBorder += Math.min(len, (rc.start[r] === 0 ? 1 : 0) + (rc.end[r] === nx ? 1 : 0));
  }
  if (n === 0) return { voxels: 0, components: 0, border: 0 };
  let components = 0;
  for (let l = 1; l <= rc.count; l++) if (rc.sizes[l] >= minFraction * n) components++;
  return { voxels: n, components, border: onBorder / n };
}

/** One line per failed check, for logs and review flags. */
export function qcFailures(qc: QcResult): string[] {
  return qc.checks.filter((c) => !c.ok).map((c) => `${c.name}=${c.value} (expected ${c.expected})`);
}
