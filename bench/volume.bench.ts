/**
 * `npx node bench/volume.bench.ts [size] [slices]` — chest phantom generation / Part 10 writing
 * time and series → volume throughput (MB/s of pixel data, wall clock and per CPU-second) with
 * peak RSS. Default 512×512×300. Prints a markdown table; the machine's load average is in the
 * header because wall-clock figures on a shared machine depend on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateChestPhantom } from '../src/dicom/phantom/generate.ts';
import { writePhantomSeries } from '../src/dicom/phantom/write-series.ts';
import { listDicomFiles, loadVolume } from '../src/dicom/volume/load-volume.ts';

const size = Number(process.argv[2] ?? 512);
const slices = Number(process.argv[3] ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const dir = await mkdtemp(join(tmpdir(), 'dfa-volume-bench-'));
try {
  let t = performance.now();
  generateChestPhantom({ size, slices });
  const genMs = performance.now() - t;
  t = performance.now();
  const w = await writePhantomSeries({ size, slices }, dir, false);
  const writeMs = performance.now() - t;
  const files = await listDicomFiles([w.dicomDir]);
  const wall: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let r = 0; r <= runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const v = await loadVolume(files);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    bytes = v.dims[0] * v.dims[1] * v.dims[2] * 2; // stored pixel data, 16-bit
    if (r > 0) {
      wall.push(bytes / 1e6 / s);
      cpu.push(bytes / 1e6 / ((c.user + c.system) / 1e6));
    }
  }
  const out = (l: string) => process.stdout.write(l + '\n');
  out(`# volume bench: ${size}×${size}×${slices}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  out('| figure | value | target |');
  out('|---|---|---|');
  out(`| phantom generation | ${(genMs / 1000).toFixed(2)} s | a few seconds |`);
  out(`| phantom Part 10 write (generation included) | ${(writeMs / 1000).toFixed(2)} s | |`);
  out(`| series → volume, wall clock (median of ${runs}) | ${median(wall).toFixed(0)} MB/s | ≥ 300 MB/s |`);
  out(`| series → volume, per CPU-second | ${median(cpu).toFixed(0)} MB/s | |`);
  out(`| pixel data | ${(bytes / 1e6).toFixed(0)} MB | |`);
  out(`| peak RSS (whole bench) | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB | |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
