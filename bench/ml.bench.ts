/**
 * `npm run bench:ml` — one table for the ml_processor (issue 3 benchmarks): classical and ONNX
 * segmentation time and Dice on a 512×512×300 chest phantom and on the real CIP CT, QC time,
 * contour + RTSTRUCT + SEG writing time, and peak RSS. A script, not a timed test.
 *
 *   npm run bench:ml                       # full size (512×512×300)
 *   npm run bench:ml -- --size 256 --slices 120 --json
 *
 * Parts that are not in the tree yet (phantom generator, ONNX model, writers) are reported as
 * "n/a" with the reason, so the script runs at every stage of the project.
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../src/core/model.ts';
import type { Segmenter } from '../src/core/ports.ts';
import type { LabelMap, Volume } from '../src/core/volume.ts';
import { createClassicalLungSegmenter } from '../src/ml/classical/lung-segmenter.ts';
import { dice } from '../src/ml/metrics.ts';
import { qcFailures, qcLungs } from '../src/ml/qc.ts';
import { syntheticChest } from '../test/support/synthetic-chest.ts';
import { CIP64_DICOM_DIR, CIP64_DIR } from '../test/support/testdata.ts';
import { IMLAB_IDS, imlabCase } from '../test/support/real-ct.ts';
import { heldOutTable, unetRows } from './support/unet.ts';

interface Row {
  step: string;
  data: string;
  ms?: number;
  diceL?: number;
  diceR?: number;
  note?: string;
}

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = arg('--size', 512);
const SLICES = arg('--slices', 300);
const JSON_OUT = args.includes('--json');
/** Classical timing on the big phantom: the median of this many runs (the machine is shared). */
const RUNS = arg('--runs', 3);
const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const rows: Row[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Import a module of the tree by path; undefined (with the reason logged) when it is not there yet. */
async function optional<T>(path: string): Promise<T | { missing: string }> {
  try {
    return (await import(new URL(`../${path}`, import.meta.url).href)) as T;
  } catch (e) {
    return { missing: `${path}: ${(e as Error).message.split('\n')[0]}` };
  }
}
const isMissing = (m: unknown): m is { missing: string } => typeof m === 'object' && m !== null && 'missing' in m;

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

interface Case {
  name: string;
  volume: Volume;
  truthL: Uint8Array;
  truthR: Uint8Array;
}

async function phantomCase(): Promise<Case> {
  type PhantomMod = { generateChestPhantom(o: { size: number; slices: number }): { volume: Volume; truth: Record<string, Uint8Array> } };
  const mod = await optional<PhantomMod>('src/dicom/phantom/index.ts');
  if (!isMissing(mod)) {
    const { value: p, ms } = await timed(() => mod.generateChestPhantom({ size: SIZE, slices: SLICES }));
    log(`phantom ${SIZE}x${SIZE}x${SLICES} generated in ${Math.round(ms)} ms`);
    return { name: `phantom ${SIZE}²×${SLICES}`, volume: p.volume, truthL: p.truth.Lung_L, truthR: p.truth.Lung_R };
  }
  log(`phantom generator n/a (${mod.missing}); using the test synthetic chest`);
  const s = syntheticChest({ dims: [SIZE, SIZE, SLICES], spacing: [400 / SIZE, 400 / SIZE, 360 / SLICES], anteriorJunction: true });
  return {
    name: `synthetic ${SIZE}²×${SLICES}`,
    volume: s.volume,
    truthL: s.truth.map((v) => (v === 1 ? 1 : 0)),
    truthR: s.truth.map((v) => (v === 2 ? 1 : 0)),
  };
}

async function realCase(): Promise<Case | { missing: string }> {
  type VolMod = { loadVolumeFromDir(dir: string): Promise<Volume> };
  type NiftiMod = { readNifti(path: string): Promise<unknown>; niftiToVolumeGrid(n: unknown, g: Volume): Uint8Array };
  const vm = await optional<VolMod>('src/dicom/volume/index.ts');
  const nm = await optional<NiftiMod>('src/io/nifti.ts');
  if (isMissing(vm)) return vm;
  if (isMissing(nm)) return nm;
  const volume = await vm.loadVolumeFromDir(CIP64_DICOM_DIR);
  const mask = async (f: string) => nm.niftiToVolumeGrid(await nm.readNifti(join(CIP64_DIR, f)), volume);
  return { name: 'real CT cip64 (64²×79, 4 mm)', volume, truthL: await mask('lung_left_mask.nii.gz'), truthR: await mask('lung_right_mask.nii.gz') };
}

function lungValues(m: ModelManifest): { l: number; r: number } {
  // by TG-263 name from the manifest (the bench compares against named truth masks)
  const l = m.labels.find((x) => x.roiName === 'Lung_L');
  const r = m.labels.find((x) => x.roiName === 'Lung_R');
  return { l: l?.value ?? -1, r: r?.value ?? -1 };
}

async function runSegmenter(step: string, s: Segmenter, c: Case): Promise<LabelMap> {
  const { value: labels, ms } = await timed(() => s.segment(c.volume));
  const { l, r } = lungValues(s.manifest);
  const qc = qcLungs(c.volume, labels, s.manifest);
  rows.push({ step, data: c.name, ms, diceL: dice(labels.data, c.truthL, l, 1), diceR: dice(labels.data, c.truthR, r, 1), note: qc.ok ? 'QC ok' : `QC: ${qcFailures(qc).join(', ')}` });
  log(`${step} on ${c.name}: ${Math.round(ms)} ms`);
  return labels;
}

async function onnxSegmenter(): Promise<(Segmenter & { release(): Promise<void> }) | { missing: string }> {
  type OnnxMod = { createOnnxSegmenter(p: string): Promise<Segmenter & { release(): Promise<void> }> };
  const mod = await optional<OnnxMod>('src/ml/onnx/index.ts');
  if (isMissing(mod)) return mod;
  try {
    return await mod.createOnnxSegmenter(root('models/lung-unet/manifest.json'));
  } catch (e) {
    return { missing: `ONNX model: ${(e as Error).message}` };
  }
}

async function writers(c: Case, labels: LabelMap, manifest: ModelManifest): Promise<void> {
  type RtMod = { writeRtstruct(i: { volume: Volume; labels: LabelMap; manifest: ModelManifest }): { part10: Uint8Array } };
  type SegMod = { writeSeg(i: { volume: Volume; labels: LabelMap; manifest: ModelManifest }): { part10: Uint8Array } };
  const rt = await optional<RtMod>('src/dicom/rtstruct/write.ts');
  const sg = await optional<SegMod>('src/dicom/seg/write.ts');
  if (isMissing(rt)) rows.push({ step: 'contours + RTSTRUCT', data: c.name, note: `n/a: ${rt.missing}` });
  else {
    const { value, ms } = await timed(() => rt.writeRtstruct({ volume: c.volume, labels, manifest }));
    rows.push({ step: 'contours + RTSTRUCT', data: c.name, ms, note: `${(value.part10.length / 1e6).toFixed(1)} MB` });
  }
  if (isMissing(sg)) rows.push({ step: 'SEG', data: c.name, note: `n/a: ${sg.missing}` });
  else {
    const { value, ms } = await timed(() => sg.writeSeg({ volume: c.volume, labels, manifest }));
    rows.push({ step: 'SEG', data: c.name, ms, note: `${(value.part10.length / 1e6).toFixed(1)} MB` });
  }
}

/**
 * Every named phantom scenario (traps, pathology, partial coverage): Dice per lung in view, and
 * the lung labelled inside the gas pockets (false positives, mL) and inside an effusion.
 */
async function scenarioRows(classical: Segmenter, onnx: Segmenter | { missing: string }): Promise<void> {
  type ScenMod = {
    PHANTOM_SCENARIOS: readonly { name: string; options: object; lungs: readonly string[] }[];
    generateChestPhantom(o: object): { volume: Volume; truth: Record<string, Uint8Array | undefined> };
  };
  const mod = await optional<ScenMod>('src/dicom/phantom/index.ts');
  if (isMissing(mod) || !('PHANTOM_SCENARIOS' in mod)) return;
  for (const sc of mod.PHANTOM_SCENARIOS) {
    const p = mod.generateChestPhantom(sc.options);
    const ml = (p.volume.spacing[0] * p.volume.spacing[1] * p.volume.spacing[2]) / 1000;
    for (const s of isMissing(onnx) ? [classical] : [classical, onnx]) {
      const { value: labels, ms } = await timed(() => s.segment(p.volume));
      const { l, r } = lungValues(s.manifest);
      const inside = (m: Uint8Array | undefined) => {
        if (!m) return 0;
        let n = 0;
        for (let q = 0; q < m.length; q++) if (m[q] !== 0 && labels.data[q] !== 0) n++;
        return n * ml;
      };
      let total = 0;
      for (let q = 0; q < labels.data.length; q++) if (labels.data[q] !== 0) total++;
      const dl = sc.lungs.includes('Lung_L') ? dice(labels.data, p.truth.Lung_L ?? new Uint8Array(0), l, 1) : undefined;
      const dr = sc.lungs.includes('Lung_R') ? dice(labels.data, p.truth.Lung_R ?? new Uint8Array(0), r, 1) : undefined;
      const note = [`gas FP ${inside(p.truth.GasPockets).toFixed(1)} mL`, `in effusion ${inside(p.truth.Effusion).toFixed(1)} mL`, `labelled ${(total * ml).toFixed(0)} mL`];
      rows.push({ step: `${s === classical ? 'classical' : `ONNX ${s.manifest.name}`} scenario`, data: `${sc.name} ${p.volume.dims.join('×')}`, ms, ...(dl === undefined ? {} : { diceL: dl }), ...(dr === undefined ? {} : { diceR: dr }), note: note.join(' · ') });
    }
    log(`scenario ${sc.name} done`);
  }
}

async function main(): Promise<void> {
  const classical = createClassicalLungSegmenter();
  const onnx = await onnxSegmenter();
  const cases: Case[] = [await phantomCase()];
  const real = await realCase();
  if (isMissing(real)) rows.push({ step: 'real CT', data: 'cip64', note: `n/a: ${real.missing}` });
  else cases.push(real);

  for (const id of IMLAB_IDS) {
    try {
      cases.push(await imlabCase(id));
    } catch (e) {
      rows.push({ step: 'real CT', data: `imlab ${id}`, note: `n/a: ${(e as Error).message}` });
    }
  }
  await scenarioRows(classical, onnx);

  for (const c of cases) {
    const labels = await runSegmenter('classical segmentation', classical, c);
    if (c === cases[0] && RUNS > 1) {
      const ms = [rows[rows.length - 1].ms ?? 0];
      for (let r = 1; r < RUNS; r++) ms.push((await timed(() => classical.segment(c.volume))).ms);
      ms.sort((a, b) => a - b);
      rows[rows.length - 1].ms = ms[Math.floor(ms.length / 2)];
      rows[rows.length - 1].note += ` · median of ${RUNS}: ${ms.map((x) => Math.round(x)).join(', ')} ms`;
    }
    if (classical.lastRun) rows[rows.length - 1].note += ` · stages ${JSON.stringify(classical.lastRun.stageMs)}`;
    const { ms: qcMs } = await timed(() => qcLungs(c.volume, labels, classical.manifest));
    rows.push({ step: 'QC', data: c.name, ms: qcMs });
    if (isMissing(onnx)) rows.push({ step: 'ONNX U-Net segmentation', data: c.name, note: `n/a: ${onnx.missing}` });
    else await runSegmenter(`ONNX ${onnx.manifest.name}`, onnx, c);
    if (c.volume.meta.slices.length > 0) await writers(c, labels, classical.manifest); // NIfTI cases have no DICOM slices to reference
  }
  // U-Net on the three real CTs and the synthetic traps / pathology (bench/support/unet.ts)
  if (!isMissing(onnx)) {
    rows.push(...(await unetRows(`ONNX ${onnx.manifest.name}`, onnx)));
    await onnx.release();
  }
  const heldOut = await heldOutTable();

  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  // the machine is shared: the load average says how far the times are from an idle machine's
  const env = `node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ env, peakRssMb, rows, heldOut }, null, 2) + '\n');
    return;
  }
  const f = (x: number | undefined, d: number) => (x === undefined ? '' : x.toFixed(d));
  const out = [
    `ml benchmark (${env})`,
    '',
    '| step | data | time (ms) | Dice Lung_L | Dice Lung_R | note |',
    '|---|---|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.step} | ${r.data} | ${f(r.ms, 0)} | ${f(r.diceL, 4)} | ${f(r.diceR, 4)} | ${r.note ?? ''} |`),
    '',
    `peak RSS: ${peakRssMb.toFixed(0)} MB`,
    '',
    ...heldOut,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

await main();
