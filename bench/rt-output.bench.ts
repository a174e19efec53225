/**
 * Contour + RTSTRUCT and SEG writing on a 512×512×300 chest phantom's ground-truth lungs.
 * A script, not a timed test: `npx node bench/rt-output.bench.ts [--size 512] [--slices 300]`.
 * Prints wall and CPU time per repetition (the first includes JIT warm-up) and the machine load,
 * because on a shared machine wall time says more about the neighbours than about the code.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateChestPhantom } from '../src/dicom/phantom/index.ts';
import { writeRtstruct } from '../src/dicom/rtstruct/write.ts';
import { writeSeg } from '../src/dicom/seg/write.ts';
import type { LabelMap } from '../src/core/volume.ts';
import { TEST_LUNG_MANIFEST } from '../test/support/rt-manifest.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '512' }, slices: { type: 'string', default: '300' }, reps: { type: 'string', default: '3' } } });
const p = generateChestPhantom({ size: Number(values.size), slices: Number(values.slices) });
const v = p.volume;
const data = new Uint8Array(v.data.length);
for (let i = 0; i < data.length; i++) data[i] = p.truth.Lung_L[i] ? 1 : p.truth.Lung_R[i] ? 2 : 0;
const labels: LabelMap = { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data };
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
console.log(`phantom ${v.dims.join('×')}, load average ${loadavg()[0].toFixed(1)}`);
for (let rep = 0; rep < Number(values.reps); rep++) {
  let c = process.cpuUsage();
  let t = performance.now();
  const rt = writeRtstruct({ volume: v, labels, manifest: TEST_LUNG_MANIFEST });
  const rtWall = performance.now() - t;
  const rtCpu = cpuMs(process.cpuUsage(c));
  c = process.cpuUsage();
  t = performance.now();
  const seg = writeSeg({ volume: v, labels, manifest: TEST_LUNG_MANIFEST });
  const segWall = performance.now() - t;
  const segCpu = cpuMs(process.cpuUsage(c));
  const pts = Object.values(rt.stats).reduce((s, x) => s + x.points, 0);
  const ctr = Object.values(rt.stats).reduce((s, x) => s + x.contours, 0);
  console.log(
    `rep ${rep}: contours+RTSTRUCT ${rtWall.toFixed(0)} ms wall / ${rtCpu.toFixed(0)} ms CPU (${ctr} contours, ${pts} points, ${(rt.part10.length / 1e6).toFixed(1)} MB)` +
      `; SEG ${segWall.toFixed(0)} ms wall / ${segCpu.toFixed(0)} ms CPU (${(seg.part10.length / 1e6).toFixed(1)} MB); total CPU ${(rtCpu + segCpu).toFixed(0)} ms`,
  );
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
