import type { Coverage, ModelManifest, QcCheck, QcResult } from '../core/model.ts';
import type { LabelMap, Volume } from '../core/volume.ts';
import { voxelVolumeMl } from '../core/volume.ts';
import { missedDenseLung } from './qc-dense.ts';
import { RunLabeler } from './morphology/runs.ts';
import { missedCavity } from './qc-cavity.ts';
import { qcLimitsFor, type LungQcLimits, type QcLimitsChoice } from './qc-limits.ts';

export { LUNG_QC_LIMITS, qcLimitsFor, type LungQcLimits } from './qc-limits.ts';

/**
 * Quality checks on a lung segmentation, on the CT it came from. A failed check is a value the
 * orchestrator acts on (fall back to another segmenter, fail the job with the reason), never an
 * exception. Limits come from qc-limits.ts, chosen by patient age (unknown → adult, stated).
 *
 * Coverage-aware: a lung with more than a little area on the scan's first or last slice is cut by
 * the field of view (partial). Volume ranges, the total and the left/right ratio apply to complete
 * lungs only; a cut lung keeps the checks that still mean something (not larger than a whole lung,
 * one piece, no leak through the in-plane border, nothing missed inside it).
 */
export interface QcOptions {
  /** Override single limits (tests, special cohorts); the rest come from `choice`. */
  readonly limits?: Partial<LungQcLimits>;
  /** Default: qcLimitsFor(volume.meta). */
  readonly choice?: QcLimitsChoice;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const range = (r: readonly [number, number]) => `${r[0]}–${r[1]}`;
// Airless tissue: above aerated/ground-glass lung, below bone. Fluid: water to a transudate.
const CAVITY = { airlessHu: [-500, 150], fluidHu: [-20, 25], minComponentMl: 2 } as const;

export function qcLungs(volume: Volume, labels: LabelMap, manifest: ModelManifest, opts: QcOptions = {}): QcResult {
  const choice = opts.choice ?? qcLimitsFor(volume.meta);
  const lim = { ...choice.limits, ...opts.limits };
  const limits = { population: choice.population, basis: opts.limits ? `${choice.basis} (some overridden)` : choice.basis };
  const vml = voxelVolumeMl(labels);
  const pixelMm2 = labels.spacing[0] * labels.spacing[1];
  const checks: QcCheck[] = [];
  const shapes = new Map(manifest.labels.map((l) => [l.value, shape(labels, l.value, lim.componentMinFraction)]));
  const vols: Record<string, number> = {};
  for (const l of manifest.labels) vols[l.roiName] = shapes.get(l.value)!.voxels * vml;
  const total = Object.values(vols).reduce((a, b) => a + b, 0);

  if (total < lim.noLungMl) {
    checks.push({ name: 'lung-present', ok: false, value: round(total, 1), expected: `≥ ${lim.noLungMl} mL (no lung in the field of view)` });
    return { ok: false, checks, coverage: {}, noLung: true, limits };
  }

  const coverage: Record<string, Coverage> = {};
  for (const l of manifest.labels) {
    const s = shapes.get(l.value)!;
    if (s.voxels > 0) coverage[l.roiName] = s.endVoxels * pixelMm2 > lim.coverageAreaMm2 ? 'partial' : 'complete';
  }
  const allComplete = !Object.values(coverage).includes('partial');
  const inRange = (x: number, r: readonly [number, number]) => x >= r[0] && x <= r[1];

  for (const l of manifest.labels) {
    const ml = vols[l.roiName];
    if (coverage[l.roiName] === 'partial') {
      // A cut lung is any size up to a whole one: only the upper bound means something.
      checks.push({ name: `volume:${l.roiName}`, ok: ml <= lim.lungMl[1], value: round(ml, 1), expected: `≤ ${lim.lungMl[1]} mL (partial coverage)` });
    } else {
      checks.push({ name: `volume:${l.roiName}`, ok: inRange(ml, lim.lungMl), value: round(ml, 1), expected: `${range(lim.lungMl)} mL` });
    }
  }
  if (allComplete) {
    checks.push({ name: 'volume:total', ok: inRange(total, lim.totalMl), value: round(total, 1), expected: `${range(lim.totalMl)} mL` });
    if (manifest.labels.length === 2) {
      const [a, b] = manifest.labels;
      const ratio = vols[b.roiName] > 0 ? vols[a.roiName] / vols[b.roiName] : Infinity;
      checks.push({ name: `ratio:${a.roiName}/${b.roiName}`, ok: inRange(ratio, lim.ratio), value: Number.isFinite(ratio) ? round(ratio) : 'inf', expected: range(lim.ratio) });
    }
  }
  for (const l of manifest.labels) {
    const { components, border } = shapes.get(l.value)!;
    checks.push({ name: `components:${l.roiName}`, ok: components >= 1 && components <= lim.maxComponents, value: components, expected: `1–${lim.maxComponents}` });
    checks.push({ name: `border:${l.roiName}`, ok: border <= lim.maxBorderFraction, value: round(border, 4), expected: `≤ ${lim.maxBorderFraction}` });
  }
  const fat = fatFractions(volume, labels);
  for (const l of manifest.labels) {
    const f = fat.get(l.value) ?? 0;
    checks.push({ name: `fat:${l.roiName}`, ok: f <= lim.maxFatFraction, value: round(f), expected: `≤ ${lim.maxFatFraction} of the lung at −190…−30 HU (fat counted as lung)` });
  }
  const cavity = missedCavity(volume, labels, manifest.labels, CAVITY);
  // Dense lung beside / below the contour (a consolidated lower lobe against the chest wall and the
  // diaphragm, which no contour encloses): the classical segmenter's anatomy rules run on these contours.
  const lv = manifest.labels.find((l) => l.roiName === 'Lung_L')?.value;
  const rv = manifest.labels.find((l) => l.roiName === 'Lung_R')?.value;
  const dense = lv !== undefined && rv !== undefined ? missedDenseLung(volume, labels, lv, rv) : undefined;
  const denseOf: Record<string, number> = dense ? { Lung_L: dense.left, Lung_R: dense.right } : {};
  for (const l of manifest.labels) {
    const missed = Math.max(cavity.missedMl[l.roiName] ?? 0, denseOf[l.roiName] ?? 0);
    const share = missed / Math.max(1e-9, missed + vols[l.roiName]);
    checks.push({
      name: `missed:${l.roiName}`,
      ok: missed <= lim.missedMl || share <= lim.missedFraction,
      value: round(missed, 1),
      expected: `≤ ${lim.missedMl} mL or ≤ ${lim.missedFraction * 100}% of the lung: airless lung tissue outside the contour — enclosed by the lung, or between it, the chest wall and the diaphragm (consolidation, collapse, tumour)`,
    });
  }
  return { ok: checks.every((c) => c.ok), checks, coverage, limits };
}

/**
 * Number of sizeable 6-connected components of one label, the share of its voxels on the in-plane
 * faces of the volume, and its voxels on the first or last slice (the larger) — from one run-length
 * labelling, no voxel-by-voxel flood.
 */
function shape(labels: LabelMap, value: number, minFraction: number): { voxels: number; components: number; border: number; endVoxels: number } {
  const [nx, ny, nz] = labels.dims;
  const rc = new RunLabeler().label(labels.data, nx, ny, nz, true, 0, value);
  let n = 0;
  let onBorder = 0;
  let first = 0;
  let last = 0;
  for (let r = 0; r < rc.nRuns; r++) {
    const len = rc.end[r] - rc.start[r];
    const k = (rc.line[r] / ny) | 0;
    const j = rc.line[r] - k * ny;
    n += len;
    if (k === 0) first += len;
    if (k === nz - 1) last += len;
    if (j === 0 || j === ny - 1) onBorder += len;
    else onBorder += Math.min(len, (rc.start[r] === 0 ? 1 : 0) + (rc.end[r] === nx ? 1 : 0));
  }
  if (n === 0) return { voxels: 0, components: 0, border: 0, endVoxels: 0 };
  let components = 0;
  for (let l = 1; l <= rc.count; l++) if (rc.sizes[l] >= minFraction * n) components++;
  return { voxels: n, components, border: onBorder / n, endVoxels: Math.max(first, last) };
}

/** Per label value: the share of its voxels in the adipose range, −190…−30 HU (qc-limits.ts). */
function fatFractions(volume: Volume, labels: LabelMap): Map<number, number> {
  const n = new Map<number, number>();
  const f = new Map<number, number>();
  const d = volume.data;
  const lab = labels.data;
  for (let i = 0; i < lab.length; i++) {
    const v = lab[i];
    if (v === 0) continue;
    n.set(v, (n.get(v) ?? 0) + 1);
    const hu = d[i]; // Volume.data is HU (rescale applied when the series was loaded)
    if (hu >= -190 && hu <= -30) f.set(v, (f.get(v) ?? 0) + 1);
  }
  const out = new Map<number, number>();
  for (const [v, count] of n) out.set(v, (f.get(v) ?? 0) / count);
  return out;
}

/** One line per failed check, for logs and review flags. */
export function qcFailures(qc: QcResult): string[] {
  return qc.checks.filter((c) => !c.ok).map((c) => `${c.name}=${c.value} (expected ${c.expected})`);
}
