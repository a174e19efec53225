import type { PhantomPathology, PhantomTrap } from './options.ts';
import { T, type Tissue } from './tissues.ts';

/**
 * Traps and pathology for the chest phantom, in patient coordinates (LPS mm, like anatomy.ts).
 *
 * Traps are air that is not lung, placed where a segmenter that thresholds air meets it on real
 * scans: colon gas (with the splenic flexure high under the left hemidiaphragm) and small-bowel gas,
 * a large gastric bubble under the left dome, free intraperitoneal air under the domes and along
 * the anterior abdominal wall. All of it stays `DIAPHRAGM_MM` below the lung surface.
 *
 * Pathology follows the usual OAR convention for "Lung": consolidated / collapsed lung (a right or
 * left lower lobe at soft-tissue density with air bronchograms along its bronchovascular tree, or a
 * right lower lobe collapsed into a paravertebral wedge), a tumour
 * against the lateral pleura, ground glass, and emphysema bullae are lung; a pleural effusion
 * (a dependent fluid crescent) is not, and takes the place of the lung it compresses.
 */
type V = readonly [number, number, number];

/** Thickness of the diaphragm between the lung base and the abdominal organs (mm). */
const DIAPHRAGM_MM = 7;
/** Half-axes of the abdominal cavity (inside the muscle wall; anatomy.ts paints SOFT there). */
const CAVITY_A = 146;
const CAVITY_B = 100;

interface Tube {
  a: V;
  b: V;
  r: number;
}

const COLON: Tube[] = [
  { a: [-95, -55, -215], b: [95, -55, -215], r: 22 }, // transverse
  { a: [95, -55, -215], b: [112, 15, -160], r: 20 }, // splenic flexure, high under the left dome
  { a: [112, 15, -160], b: [110, 35, -330], r: 18 }, // descending
  { a: [-95, -55, -215], b: [-100, 20, -240], r: 20 }, // hepatic flexure
  { a: [-100, 20, -240], b: [-100, 30, -360], r: 20 }, // ascending
  { a: [-40, -40, -280], b: [40, -40, -285], r: 12 }, // small-bowel loops
  { a: [-30, -10, -310], b: [50, -10, -320], r: 12 },
  { a: [-50, -50, -345], b: [20, -60, -350], r: 11 },
];
const WALL = 3;

const STOMACH_C: V = [75, -5, -168];
const STOMACH_R: V = [52, 46, 58];

const TUMOUR_C: V = [128, -10, 5];
const TUMOUR_R = 24;
const GGO_C: V = [-85, -25, 40];
const GGO_R: V = [35, 30, 30];
const BULLAE: { c: V; r: number; side: 1 | -1 }[] = [
  { c: [45, 15, 95], r: 16, side: 1 }, // apical
  { c: [120, 45, -40], r: 14, side: 1 }, // subpleural, posterolateral
  { c: [70, -55, 10], r: 12, side: 1 },
  { c: [-100, 30, 60], r: 15, side: -1 },
];

function distToSegment2(x: number, y: number, z: number, t: Tube): number {
  const d = [t.b[0] - t.a[0], t.b[1] - t.a[1], t.b[2] - t.a[2]];
  const p = [x - t.a[0], y - t.a[1], z - t.a[2]];
  const dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  const u = Math.max(0, Math.min(1, (p[0] * d[0] + p[1] * d[1] + p[2] * d[2]) / dd));
  const e = [p[0] - u * d[0], p[1] - u * d[1], p[2] - u * d[2]];
  return e[0] * e[0] + e[1] * e[1] + e[2] * e[2];
}

/**
 * A collapsed right lower lobe: a wedge against the spine and the posterior chest wall whose base
 * rests on the diaphragm and which narrows towards the hilum (the paravertebral triangle of lower
 * lobe collapse on axial CT). `p` is the dependent (posterior for supine) coordinate.
 */
function collapsedLowerLobe(x: number, p: number, z: number): boolean {
  const lateral = -x - 18; // from the right lung's medial edge (anatomy.ts: 18 mm off the midline)
  return p > -20 + 0.8 * lateral + 0.8 * Math.max(0, z + 80);
}

export class Abnormal {
  private readonly traps: ReadonlySet<PhantomTrap>;
  private readonly pathology: ReadonlySet<PhantomPathology>;
  /** +1 when "up" (non-dependent, where gas rises) is posterior (+y): prone patients. */
  private readonly up: 1 | -1;

  constructor(traps: readonly PhantomTrap[], pathology: readonly PhantomPathology[], prone: boolean) {
    this.traps = new Set(traps);
    this.pathology = new Set(pathology);
    this.up = prone ? 1 : -1;
  }

  get any(): boolean {
    return this.traps.size > 0 || this.pathology.size > 0;
  }

  /**
   * Abdominal contents at (x, y, z), or undefined to leave the voxel as it is. `domeZ` is the lung
   * base (diaphragm) height above (x, y).
   */
  abdomen(x: number, y: number, z: number, domeZ: number): Tissue | undefined {
    if (this.traps.size === 0) return undefined;
    const u = x / CAVITY_A;
    const v = y / CAVITY_B;
    if (u * u + v * v > 1 || z > domeZ - DIAPHRAGM_MM) return undefined;
    const upY = this.up * y; // larger = higher (non-dependent)
    if (this.traps.has('free-air')) {
      const under = z > domeZ - DIAPHRAGM_MM - 12 && upY > 20;
      const anterior = upY > CAVITY_B - 14 && z > -300;
      if (under || anterior) return T.FREE_AIR;
    }
    if (this.traps.has('gastric-bubble')) {
      const d = [(x - STOMACH_C[0]) / STOMACH_R[0], (y - STOMACH_C[1]) / STOMACH_R[1], (z - STOMACH_C[2]) / STOMACH_R[2]];
      const r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
      if (r2 <= 1) {
        const inner = [(x - STOMACH_C[0]) / (STOMACH_R[0] - 4), (y - STOMACH_C[1]) / (STOMACH_R[1] - 4), (z - STOMACH_C[2]) / (STOMACH_R[2] - 4)];
        if (inner[0] * inner[0] + inner[1] * inner[1] + inner[2] * inner[2] > 1) return T.BOWEL_WALL;
        // air-fluid level: the non-dependent 60% of the lumen is gas
        return this.up * (y - STOMACH_C[1]) > -0.2 * STOMACH_R[1] ? T.GASTRIC_GAS : T.GASTRIC_FLUID;
      }
    }
    if (this.traps.has('bowel-gas')) {
      for (const t of COLON) {
        const d2 = distToSegment2(x, y, z, t);
        if (d2 <= (t.r - WALL) ** 2) return T.BOWEL_GAS;
        if (d2 <= t.r * t.r) return T.BOWEL_WALL;
      }
    }
    return undefined;
  }

  /** Lung tissue of `side` at (x, y, z) before vessels: aerated lung or dense / ground-glass disease. */
  lung(side: 1 | -1, x: number, y: number, z: number): Tissue {
    const L = side > 0;
    if (this.pathology.size === 0) return L ? T.LUNG_L : T.LUNG_R;
    // right lower lobe: posterior-inferior to an oblique fissure (z = y' - 40, y' posterior = dependent)
    if (!L && this.pathology.has('consolidation') && z < -this.up * y - 40) return T.CONSOLIDATION_R;
    if (L && this.pathology.has('consolidation-left') && z < -this.up * y - 40) return T.CONSOLIDATION_L;
    if (!L && this.pathology.has('atelectasis') && collapsedLowerLobe(x, -this.up * y, z)) return T.CONSOLIDATION_R;
    if (L && this.pathology.has('tumour')) {
      const d = [x - TUMOUR_C[0], y - TUMOUR_C[1], z - TUMOUR_C[2]];
      if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= TUMOUR_R * TUMOUR_R) return T.TUMOUR_L;
    }
    if (!L && this.pathology.has('ggo')) {
      const d = [(x - GGO_C[0]) / GGO_R[0], (y - GGO_C[1]) / GGO_R[1], (z - GGO_C[2]) / GGO_R[2]];
      if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= 1) return T.GGO_R;
    }
    return L ? T.LUNG_L : T.LUNG_R;
  }

  /** What a vessel of radius r becomes over lung tissue t: a vessel, an air bronchogram in consolidation, or nothing (tumour). */
  vessel(t: number, r: number): Tissue | undefined {
    if (t === T.LUNG_L || t === T.GGO_L) return T.VESSEL_L;
    if (t === T.LUNG_R || t === T.GGO_R) return T.VESSEL_R;
    // bronchi run beside the arteries: in consolidated lung the larger ones stay aerated
    if (t === T.CONSOLIDATION_R && r >= 1.2) return T.BRONCHOGRAM_R;
    if (t === T.CONSOLIDATION_L && r >= 1.2) return T.BRONCHOGRAM_L;
    return undefined;
  }

  /** After vessels: bullae replace lung, an effusion replaces the dependent right base. */
  late(side: 1 | -1, x: number, y: number, z: number): Tissue | undefined {
    if (this.pathology.size === 0) return undefined;
    if (this.pathology.has('bullae')) {
      for (const b of BULLAE) {
        if (b.side !== side) continue;
        const d = [x - b.c[0], y - b.c[1], z - b.c[2]];
        if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= b.r * b.r) return side > 0 ? T.BULLA_L : T.BULLA_R;
      }
    }
    // dependent crescent with a meniscus: the posterior half of the base, thinning upwards to z = -50
    if (side < 0 && this.pathology.has('effusion') && z < -50 && -this.up * y > 10 + 1.5 * (z + 110)) return T.EFFUSION;
    return undefined;
  }
}
