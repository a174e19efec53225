/**
 * Writes the lung U-Net's training set: axial slices of synthetic chest CTs, put through exactly the
 * preprocessing the ONNX segmenter applies at inference (src/ml/onnx: model grid at the manifest's
 * spacing in canonical LPS orientation, trilinear for images, nearest for labels, the manifest's
 * intensity window), cut to the manifest's patch size the way the sliding window does.
 *
 *   npx node ml/train/make-dataset.ts --out /tmp/lung-ds --phantoms 80 --seed 1
 *
 * Real CT with its ground-truth masks (ml/train/real-cases.ts), each slice written --real-repeat
 * times, every copy after the first with its own augmentation (patient size, noise, kernel, slice
 * thickness), so leave-one-out runs can pick which real cases a model sees:
 *
 *   npx node ml/train/make-dataset.ts --out /tmp/lung-real-cip64 --phantoms 0 --real cip64 --real-repeat 8
 *
 * Extra volumes with traps / pathology forced on (--force-mix N), for the trap-aware recipe:
 *
 *   npx node ml/train/make-dataset.ts --out /tmp/lung-force --phantoms 0 --force-mix 120 --seed 1
 *
 * Output: x.f32 (N×H×W float32, preprocessed), y.u8 (N×H×W labels 0/1/2), g.u8 (N×H×W, 1 on gas
 * pockets that are not lung; synthetic volumes only), meta.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOnnxManifest } from '../../src/ml/onnx/manifest.ts';
import { modelGrid, resampleLinear, resampleNearest } from '../../src/ml/onnx/model-grid.ts';
import { intensityFn, normalizeInPlace } from '../../src/ml/onnx/preprocess.ts';
import { windowStarts } from '../../src/ml/onnx/sliding-window.ts';
import type { Volume } from '../../src/core/volume.ts';
import { loadRealCase, REAL_CASES, type RealCaseName } from './real-cases.ts';
import { blurInPlane, rng, synthChest } from './synth-chest.ts';
import { sharpenInPlane, thickenSlices, type Finding, type Scenario } from './synth-extras.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    phantoms: { type: 'string', default: '80' },
    seed: { type: 'string', default: '1' },
    manifest: { type: 'string', default: new URL('../../models/lung-unet/manifest.json', import.meta.url).pathname },
    'empty-fraction': { type: 'string', default: '0.25' }, // share of lung-free slices kept
    real: { type: 'string', multiple: true, default: [] }, // real case names (real-cases.ts)
    'real-repeat': { type: 'string', default: '1' }, // write each real slice this many times
    // extra synthetic volumes with traps / pathology forced on (seeds seed*100000+50000+p): consolidation
    // in half of them, plus gastric bubble, free air, colon, effusion, bullae and the abdomen scenarios
    'force-mix': { type: 'string', default: '0' },
  },
});
if (values.out === undefined) throw new Error('--out DIR is required');
const { manifest } = await loadOnnxManifest(values.manifest);
const spec = manifest.onnx;
if (spec.layout !== '2d') throw new Error('make-dataset writes 2D slices only');
const [pw, ph] = spec.patchSize;
const fill = intensityFn(spec.preprocessing)(spec.fillValue);
const seed0 = Number(values.seed);
const pick = rng(seed0 * 7919 + 13);
const emptyFraction = Number(values['empty-fraction']);

const xs: Float32Array[] = [];
const ys: Uint8Array[] = [];
const gs: Uint8Array[] = []; // 1 on gas pockets that are not lung (synthetic only): weighted in the loss
const perPhantom: { source: string; seed: number; force?: string; dims: readonly number[]; spacing: readonly number[]; slices: number }[] = [];
const t0 = performance.now();
const sources: { name: string; seed: number; force?: string; make: () => Promise<{ volume: Volume; labels: Uint8Array; gas?: Uint8Array }> }[] = [];
for (let p = 0; p < Number(values.phantoms); p++) {
  const seed = seed0 * 100000 + p;
  sources.push({ name: 'synth', seed, make: async () => Promise.resolve(synthChest(seed)) });
}
for (let p = 0; p < Number(values['force-mix']); p++) {
  const seed = seed0 * 100000 + 50000 + p;
  const r = rng(seed * 31 + 7);
  const s = r();
  const scenario: Scenario = s < 0.7 ? 'chest' : s < 0.88 ? 'abdomen-bases' : 'abdomen-no-lung';
  const force: Finding[] = [];
  if (scenario === 'chest' && r() < 0.6) force.push('consolidation');
  for (const [f, q] of [['gastric', 0.45], ['freeAir', 0.3], ['colon', 0.4], ['effusion', 0.2], ['bullae', 0.15], ['tumour', 0.15], ['ggo', 0.15]] as const) if (r() < q) force.push(f);
  sources.push({ name: 'synth (traps / pathology forced)', seed, force: `${scenario}: ${force.join('+') || 'none'}`, make: async () => Promise.resolve(synthChest(seed, { scenario, force })) });
}
for (const name of values.real) {
  if (!(REAL_CASES as readonly string[]).includes(name)) throw new Error(`--real ${name}: not one of ${REAL_CASES.join(', ')}`);
  const real = await loadRealCase(name as RealCaseName);
  for (let rep = 0; rep < Number(values['real-repeat']); rep++) {
    sources.push({ name: `real ${name} (ground truth)${rep ? ` aug ${rep}` : ''}`, seed: rep, make: async () => Promise.resolve(rep === 0 ? real : augmentReal(real, rng(seed0 * 1000 + rep + 97 * REAL_CASES.indexOf(name as RealCaseName)))) });
  }
}

/**
 * A real CT, varied the way other scanners and patients vary it: patient size (in-plane spacing
 * scaled 0.85–1.15, labels follow), image noise, soft or sharp kernel, thicker slices.
 */
function augmentReal(c: { volume: Volume; labels: Uint8Array }, r: () => number): { volume: Volume; labels: Uint8Array } {
  const u = (a: number, b: number) => a + (b - a) * r();
  const data = Float32Array.from(c.volume.data);
  const scale = u(0.85, 1.15);
  const sigma = u(0, 35);
  for (let v = 0; v < data.length; v++) data[v] += sigma * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const kernel = r();
  if (kernel < 0.3) blurInPlane(data, c.volume.dims, 1);
  else if (kernel < 0.6) sharpenInPlane(data, c.volume.dims, u(0.4, 1.2));
  if (r() < 0.25) thickenSlices(data, c.volume.dims);
  const sp = c.volume.spacing;
  return { volume: { ...c.volume, data, spacing: [sp[0] * scale, sp[1] * scale, sp[2]] }, labels: c.labels };
}

for (const src of sources) {
  const seed = src.seed;
  const { volume, labels, gas } = await src.make();
  const grid = modelGrid(volume, spec.spacing);
  const img = normalizeInPlace(resampleLinear(volume.data, volume, grid, spec.fillValue), spec.preprocessing);
  const lab = resampleNearest(labels, volume, grid);
  const gasg = gas === undefined ? undefined : resampleNearest(gas, volume, grid);
  const [nx, ny, nz] = grid.dims;
  // Same placement as the sliding window: centred when the grid is smaller than the patch, else a
  // random window position (the window starts the runtime would use, plus jitter between them).
  const sx = windowStarts(nx, pw, spec.overlap);
  const sy = windowStarts(ny, ph, spec.overlap);
  let kept = 0;
  for (let k = 0; k < nz; k++) {
    let hasLung = false;
    for (let v = k * nx * ny; v < (k + 1) * nx * ny && !hasLung; v++) hasLung = lab[v] !== 0;
    let hasGas = false;
    if (gasg) for (let v = k * nx * ny; v < (k + 1) * nx * ny && !hasGas; v++) hasGas = gasg[v] !== 0;
    if (!hasLung && !hasGas && pick() > emptyFraction) continue; // slices with gas pockets are kept: they are the traps
    const x0 = nx <= pw ? sx[0] : Math.floor(pick() * (nx - pw + 1));
    const y0 = ny <= ph ? sy[0] : Math.floor(pick() * (ny - ph + 1));
    const x = new Float32Array(pw * ph).fill(fill);
    const y = new Uint8Array(pw * ph);
    const g = new Uint8Array(pw * ph);
    for (let j = 0; j < ph; j++) {
      const gy = y0 + j;
      if (gy < 0 || gy >= ny) continue;
      for (let i = 0; i < pw; i++) {
        const gx = x0 + i;
        if (gx < 0 || gx >= nx) continue;
        x[i + j * pw] = img[gx + gy * nx + k * nx * ny];
        y[i + j * pw] = lab[gx + gy * nx + k * nx * ny];
        if (gasg) g[i + j * pw] = gasg[gx + gy * nx + k * nx * ny];
      }
    }
    xs.push(x);
    ys.push(y);
    gs.push(g);
    kept++;
  }
  perPhantom.push({ source: src.name, seed, ...(src.force === undefined ? {} : { force: src.force }), dims: volume.dims, spacing: volume.spacing.map((s) => Math.round(s * 100) / 100), slices: kept });
}

await mkdir(values.out, { recursive: true });
const concat = <T extends Float32Array | Uint8Array>(parts: T[], make: (n: number) => T): T => {
  const out = make(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const X = concat(xs, (n) => new Float32Array(n));
const Y = concat(ys, (n) => new Uint8Array(n));
await writeFile(join(values.out, 'x.f32'), new Uint8Array(X.buffer));
await writeFile(join(values.out, 'y.u8'), Y);
await writeFile(join(values.out, 'g.u8'), concat(gs, (n) => new Uint8Array(n)));
const meta = {
  count: xs.length,
  height: ph,
  width: pw,
  classes: spec.output.channelLabels.length,
  manifest: `${manifest.name} ${manifest.version}`,
  preprocessing: spec.preprocessing,
  spacing: spec.spacing,
  seed: seed0,
  phantoms: perPhantom.length,
  perPhantom,
};
await writeFile(join(values.out, 'meta.json'), JSON.stringify(meta, null, 1));
process.stdout.write(`wrote ${xs.length} slices from ${perPhantom.length} volumes to ${values.out} in ${Math.round(performance.now() - t0)} ms\n`);
