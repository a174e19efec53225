/**
 * Writes the lung U-Net's training set: axial slices of synthetic chest CTs, put through exactly the
 * preprocessing the ONNX segmenter applies at inference (src/ml/onnx: model grid at the manifest's
 * spacing in canonical LPS orientation, trilinear for images, nearest for labels, the manifest's
 * intensity window), cut to the manifest's patch size the way the sliding window does.
 *
 *   npx node ml/train/make-dataset.ts --out /tmp/lung-ds --phantoms 80 --seed 1
 *
 * Optionally real CT with pseudo-labels from the classical segmenter (never ground truth):
 *
 *   npx node ml/train/make-dataset.ts --out /tmp/lung-real --phantoms 0 --real-dicom ../shared/testdata/ct-chest-cip64/dicom --real-repeat 4
 *
 * Output: x.f32 (N×H×W float32, preprocessed), y.u8 (N×H×W labels 0/1/2), meta.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOnnxManifest } from '../../src/ml/onnx/manifest.ts';
import { modelGrid, resampleLinear, resampleNearest } from '../../src/ml/onnx/model-grid.ts';
import { intensityFn, normalizeInPlace } from '../../src/ml/onnx/preprocess.ts';
import { windowStarts } from '../../src/ml/onnx/sliding-window.ts';
import type { Volume } from '../../src/core/volume.ts';
import { loadVolumeFromDir } from '../../src/dicom/volume/index.ts';
import { createClassicalLungSegmenter } from '../../src/ml/classical/lung-segmenter.ts';
import { labelByRoiName } from '../../src/ml/manifest.ts';
import { rng, synthChest } from './synth-chest.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    phantoms: { type: 'string', default: '80' },
    seed: { type: 'string', default: '1' },
    manifest: { type: 'string', default: new URL('../../models/lung-unet/manifest.json', import.meta.url).pathname },
    'empty-fraction': { type: 'string', default: '0.25' }, // share of lung-free slices kept
    'real-dicom': { type: 'string', multiple: true, default: [] }, // CT series directories
    'real-repeat': { type: 'string', default: '1' }, // write each real slice this many times
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
const perPhantom: { source: string; seed: number; dims: readonly number[]; spacing: readonly number[]; slices: number }[] = [];
const t0 = performance.now();
const sources: { name: string; seed: number; make: () => Promise<{ volume: Volume; labels: Uint8Array }>; repeat: number }[] = [];
for (let p = 0; p < Number(values.phantoms); p++) {
  const seed = seed0 * 100000 + p;
  sources.push({ name: 'synth', seed, make: async () => Promise.resolve(synthChest(seed)), repeat: 1 });
}
for (const dir of values['real-dicom']) {
  sources.push({ name: `${dir} (classical-segmenter pseudo-labels)`, seed: 0, make: async () => pseudoLabelled(dir), repeat: Number(values['real-repeat']) });
}

/** Real CT labelled by the classical segmenter, mapped to this model's label values. */
async function pseudoLabelled(dir: string): Promise<{ volume: Volume; labels: Uint8Array }> {
  const volume = await loadVolumeFromDir(dir);
  const classical = createClassicalLungSegmenter();
  const out = await classical.segment(volume);
  const map = new Uint8Array(256);
  for (const roi of ['Lung_L', 'Lung_R']) map[labelByRoiName(classical.manifest, roi).value] = labelByRoiName(manifest, roi).value;
  return { volume, labels: out.data.map((v) => map[v]) };
}

for (const src of sources) {
  const seed = src.seed;
  const { volume, labels } = await src.make();
  const grid = modelGrid(volume, spec.spacing);
  const img = normalizeInPlace(resampleLinear(volume.data, volume, grid, spec.fillValue), spec.preprocessing);
  const lab = resampleNearest(labels, volume, grid);
  const [nx, ny, nz] = grid.dims;
  // Same placement as the sliding window: centred when the grid is smaller than the patch, else a
  // random window position (the window starts the runtime would use, plus jitter between them).
  const sx = windowStarts(nx, pw, spec.overlap);
  const sy = windowStarts(ny, ph, spec.overlap);
  let kept = 0;
  for (let k = 0; k < nz; k++) {
    let hasLung = false;
    for (let v = k * nx * ny; v < (k + 1) * nx * ny && !hasLung; v++) hasLung = lab[v] !== 0;
    if (!hasLung && pick() > emptyFraction) continue;
    const x0 = nx <= pw ? sx[0] : Math.floor(pick() * (nx - pw + 1));
    const y0 = ny <= ph ? sy[0] : Math.floor(pick() * (ny - ph + 1));
    const x = new Float32Array(pw * ph).fill(fill);
    const y = new Uint8Array(pw * ph);
    for (let j = 0; j < ph; j++) {
      const gy = y0 + j;
      if (gy < 0 || gy >= ny) continue;
      for (let i = 0; i < pw; i++) {
        const gx = x0 + i;
        if (gx < 0 || gx >= nx) continue;
        x[i + j * pw] = img[gx + gy * nx + k * nx * ny];
        y[i + j * pw] = lab[gx + gy * nx + k * nx * ny];
      }
    }
    for (let rep = 0; rep < src.repeat; rep++) {
      xs.push(x);
      ys.push(y);
      kept++;
    }
  }
  perPhantom.push({ source: src.name, seed, dims: volume.dims, spacing: volume.spacing.map((s) => Math.round(s * 100) / 100), slices: kept });
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
