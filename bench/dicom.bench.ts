/**
 * `npm run bench:dicom` — DICOM retrieval and series → volume figures on a 512×512×300 CT study
 * stored in a real Orthanc (loopback, TCP_NODELAY=1), in one run:
 *   our C-GET / C-MOVE / WADO-RS  vs  dcmtk getscu / movescu + storescp / curl, same study;
 *   series → volume throughput (MB/s of pixel data) and its peak RSS (measured in a child process).
 * Each figure is the median of BENCH_RUNS (default 6) runs after one warm-up run; between methods the
 * output is deleted and `sync` run, untimed (BENCH_SYNC=0 to skip). Prints a markdown
 * table. Parts whose code is not in the tree print "n/a (not available)".
 *
 * The study comes from the phantom generator when it exposes a library function, otherwise from
 * ../shared/testdata/odd-dicom/cip_copdgene_fullres_slice001.dcm cloned into 300 slices with new UIDs
 * and positions (dcmjs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../src/core/log.ts';
import { randomUid } from '../src/core/uid.ts';
import type { RetrieveResult } from '../src/core/ports.ts';
import { DicomWebClient } from '../src/dicom/dicomweb/client.ts';
import { startOrthanc, type OrthancHandle } from '../test/support/orthanc.ts';
import { freePort } from '../test/support/ports.ts';
import { ODD_DICOM_DIR } from '../test/support/testdata.ts';

const run = promisify(execFile);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 6));
const SLICES = Number(process.env.BENCH_SLICES ?? 300);
const NA = 'n/a (not available)';
const SYNC_BETWEEN = process.env.BENCH_SYNC !== '0';
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };
const quiet = createLogger({ level: 'error' });

// ───────────────────────── study preparation ─────────────────────────

interface DcmjsDict {
  dict: Record<string, { Value: unknown[] }>;
  meta: Record<string, { Value: unknown[] }>;
  write(): ArrayBuffer;
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: { DicomMessage: { readFile(b: ArrayBuffer): DcmjsDict } } };

/** 300 slices cloned from one real 512×512 CT slice: new study/series/SOP UIDs, stacked along z. */
async function synthesizeStudy(dir: string, n: number): Promise<string> {
  const src = await readFile(join(ODD_DICOM_DIR, 'cip_copdgene_fullres_slice001.dcm'));
  const d = dcmjs.data.DicomMessage.readFile(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength) as ArrayBuffer);
  const study = randomUid();
  const series = randomUid();
  const ipp = (d.dict['00200032'].Value as (string | number)[]).map(Number);
  const dz = 0.625;
  d.dict['0020000D'].Value = [study];
  d.dict['0020000E'].Value = [series];
  for (let i = 0; i < n; i++) {
    const sop = randomUid();
    d.dict['00080018'].Value = [sop];
    d.meta['00020003'].Value = [sop];
    d.dict['00200013'].Value = [i + 1];
    d.dict['00200032'].Value = [ipp[0], ipp[1], +(ipp[2] + i * dz).toFixed(3)];
    if (d.dict['00201041']) d.dict['00201041'].Value = [+(ipp[2] + i * dz).toFixed(3)];
    await writeFile(join(dir, `slice${String(i + 1).padStart(4, '0')}.dcm`), Buffer.from(d.write()));
  }
  return study;
}

type WritePhantom = (opts: Record<string, unknown>, outDir: string, writeTruth: boolean) => Promise<{ files: readonly string[] }>;

/** The study to serve: the chest phantom (src/dicom/phantom) when present, else cloned real slices. */
async function prepareStudy(scratch: string): Promise<{ study: string; files: string[]; source: string }> {
  const dir = join(scratch, 'study');
  await mkdir(dir);
  const study = randomUid();
  const writePhantom = await optionalImport<WritePhantom>('../src/dicom/phantom/index.ts', 'writePhantomSeries');
  if (writePhantom) {
    process.stderr.write(`bench: generating a 512x512x${SLICES} chest phantom…\n`);
    try {
      const w = await writePhantom({ size: 512, slices: SLICES, studyInstanceUid: study }, dir, false);
      return { study, files: [...w.files], source: 'chest phantom' };
    } catch (e) {
      process.stderr.write(`bench: phantom generator failed (${e instanceof Error ? e.message : String(e)}); cloning a real slice instead\n`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
    }
  }
  process.stderr.write(`bench: writing ${SLICES} clones of a real 512x512 CT slice…\n`);
  const cloned = await synthesizeStudy(dir, SLICES);
  return { study: cloned, files: (await readdir(dir)).map((f) => join(dir, f)), source: 'cloned COPDGene slice' };
}

// ───────────────────────── timing helpers ─────────────────────────

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

type Retrieval = (dest: string) => Promise<number>;

/**
 * One warm-up round, then RUNS timed rounds; each round runs every method once, in turn, each into
 * a fresh directory. Interleaving means ours and the reference see the same machine load (this
 * machine is shared), which matters more for the ratio than any single figure. Methods come in
 * (reference, ours) pairs whose order alternates from round to round: the slot right after another
 * retrieval of the same study is faster (Orthanc's caches are warm), and a fixed order gave that
 * slot to the same method every time (measured: curl 1.2× faster there).
 */
async function timedRounds(scratch: string, methods: ReadonlyMap<string, Retrieval | undefined>): Promise<{ medians: Map<string, number | string>; times: Map<string, number[]> }> {
  const times = new Map<string, number[]>();
  const failed = new Map<string, string>();
  const entries = [...methods];
  for (let r = 0; r <= RUNS; r++) {
    const order = entries.map((_, i) => entries[r % 2 === 0 ? i : i ^ 1] ?? entries[i]);
    for (const [label, fn] of order) {
      if (!fn || failed.has(label)) continue;
      const dest = join(scratch, `${label.replace(/\W+/g, '-')}-${r}`);
      await mkdir(dest, { recursive: true });
      try {
        const t0 = performance.now();
        const count = await fn(dest);
        const s = (performance.now() - t0) / 1000;
        if (count !== SLICES) throw new Error(`got ${count} instances, expected ${SLICES}`);
        if (r > 0) times.set(label, [...(times.get(label) ?? []), s]);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        process.stderr.write(`bench: ${label} failed: ${why}\n`);
        failed.set(label, `failed (${why.slice(0, 60)})`);
      } finally {
        await rm(dest, { recursive: true, force: true });
        // Untimed: commit the deletion (this disk is mounted with online discard) before the next
        // method runs, so no method pays for the previous one's 300 deleted files.
        if (SYNC_BETWEEN) await run('sync', []);
      }
    }
  }
  const medians = new Map<string, number | string>();
  for (const [label, fn] of methods) medians.set(label, failed.get(label) ?? (fn ? median(times.get(label) ?? []) : NA));
  return { medians, times };
}

/** Median over rounds of ours/reference from the same round: robust to load drifting between rounds. */
function pairedRatio(times: Map<string, number[]>, ours: string, ref: string): string {
  const a = times.get(ours);
  const b = times.get(ref);
  if (!a || !b || a.length !== b.length || a.length === 0) return 'n/a';
  return `${median(a.map((x, i) => x / b[i])).toFixed(2)}×`;
}

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).length;
}

// ───────────────────────── optional parts from the rest of the tree ─────────────────────────

interface PacsLike {
  retrieve(req: { studyInstanceUid: string }, destDir: string): Promise<RetrieveResult>;
  close(): Promise<void>;
}
type CreatePacs = (opts: Record<string, unknown>) => PacsLike;

async function optionalImport<T>(spec: string, name: string): Promise<T | undefined> {
  try {
    const mod = (await import(new URL(spec, import.meta.url).href)) as Record<string, unknown>;
    return typeof mod[name] === 'function' ? (mod[name] as T) : undefined;
  } catch (e) {
    process.stderr.write(`bench: ${spec} not usable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    return undefined;
  }
}

// ───────────────────────── volume worker (child process: its own peak RSS) ─────────────────────────

async function volumeWorker(dir: string): Promise<void> {
  const load = await optionalImport<(d: string) => Promise<{ data: ArrayLike<number>; dims: readonly number[] }>>('../src/dicom/volume/index.ts', 'loadVolumeFromDir');
  if (!load) {
    process.stdout.write(JSON.stringify({ error: 'not available' }) + '\n');
    return;
  }
  const times: number[] = [];
  let pixelBytes = 0;
  for (let r = 0; r <= RUNS; r++) {
    const t0 = performance.now();
    const v = await load(dir);
    const s = (performance.now() - t0) / 1000;
    pixelBytes = v.dims[0] * v.dims[1] * v.dims[2] * 2; // stored pixel data: 16-bit
    if (r > 0) times.push(s);
  }
  process.stdout.write(JSON.stringify({ seconds: median(times), pixelBytes, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

async function measureVolume(dir: string): Promise<{ mbps: string; rss: string; seconds: string }> {
  const { stdout } = await run(process.execPath, [new URL(import.meta.url).pathname, '--volume-worker', dir], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { seconds?: number; pixelBytes?: number; maxRssKb?: number };
  if (r.seconds === undefined || r.pixelBytes === undefined || r.maxRssKb === undefined) return { mbps: NA, rss: NA, seconds: NA };
  return { mbps: (r.pixelBytes / 1e6 / r.seconds).toFixed(0), rss: `${(r.maxRssKb / 1024).toFixed(0)} MB`, seconds: r.seconds.toFixed(3) };
}

// ───────────────────────── main ─────────────────────────

async function startStorescp(port: number, aet: string, outDir: string): Promise<ChildProcess> {
  const p = spawn('storescp', ['-aet', aet, '-od', outDir, '+xa', String(port)], { env: DCMTK_ENV, stdio: 'ignore' });
  // storescp has no readiness signal: wait until its port accepts connections (echoscu).
  for (let i = 0; i < 100; i++) {
    try {
      await run('echoscu', ['-aec', aet, '127.0.0.1', String(port)], { env: DCMTK_ENV });
      return p;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  p.kill();
  throw new Error('storescp did not start');
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'dfa-bench-dicom-'));
  let orthanc: OrthancHandle | undefined;
  let storescp: ChildProcess | undefined;
  const pacses: PacsLike[] = [];
  try {
    const scpPort = await freePort();
    const ourScpPort = await freePort();
    orthanc = await startOrthanc({
      modalities: {
        dcmtk: { aet: 'BENCHSCU', port: 1 },
        storescp: { aet: 'BENCHSCP', port: scpPort },
        dfa: { aet: 'DFABENCH', port: ourScpPort },
      },
    });
    const prepared = await prepareStudy(scratch);
    const study = prepared.study;
    const web = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl });
    const t0 = performance.now();
    const stored = await web.store(prepared.files);
    const stowSeconds = (performance.now() - t0) / 1000;
    if (stored.some((o) => !o.ok)) throw new Error(`STOW-RS: ${stored.filter((o) => !o.ok).length} instances not stored`);
    const pixelMb = (512 * 512 * 2 * SLICES) / 1e6;
    process.stderr.write(`bench: stored ${stored.length} instances by STOW-RS in ${stowSeconds.toFixed(2)} s; ${RUNS} runs + 1 warm-up each\n`);

    const host = '127.0.0.1';
    const port = String(orthanc.dicomPort);
    const wadoUrl = `${orthanc.dicomWebUrl}/studies/${study}`;
    const accept = 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*';

    // References (dcmtk with TCP_NODELAY=1; curl) and ours, interleaved.
    const scpDir = join(scratch, 'storescp');
    await mkdir(scpDir);
    storescp = await startStorescp(scpPort, 'BENCHSCP', scpDir);
    const createPacs = await optionalImport<CreatePacs>('../src/dicom/pacs.ts', 'createPacs');
    const ours = (method: 'c-get' | 'c-move'): Retrieval | undefined => {
      if (!createPacs) return undefined;
      const pacs = createPacs({
        dimse: { host, port: orthanc!.dicomPort, calledAet: orthanc!.aet, callingAet: 'DFABENCH' },
        retrieve: [method],
        store: 'c-store',
        moveScp: { host, port: ourScpPort, inboxDir: join(scratch, 'dfa-inbox') },
        log: quiet,
      });
      pacses.push(pacs);
      return async (dest) => {
        const r = await pacs.retrieve({ studyInstanceUid: study }, dest);
        if (r.method !== method) throw new Error(`fell back to ${r.method}`);
        return r.instances.length;
      };
    };
    const results = await timedRounds(
      scratch,
      new Map<string, Retrieval | undefined>([
        ['curl', async (dest) => {
          await run('curl', ['-sS', '--fail', '-o', join(dest, 'study.multipart'), '-H', accept, wadoUrl]);
          return SLICES; // one multipart file; curl does not split it
        }],
        ['wado', async (dest) => (await web.retrieveStudy(study, dest)).length],
        ['getscu', async (dest) => {
          await run('getscu', ['-aet', 'BENCHSCU', '-aec', orthanc!.aet, '-od', dest, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, host, port], { env: DCMTK_ENV });
          return countFiles(dest);
        }],
        ['c-get', ours('c-get')],
        ['movescu', async () => {
          await rm(scpDir, { recursive: true, force: true });
          await mkdir(scpDir);
          await run('movescu', ['-aet', 'BENCHSCU', '-aec', orthanc!.aet, '-aem', 'BENCHSCP', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, host, port], { env: DCMTK_ENV });
          return countFiles(scpDir);
        }],
        ['c-move', ours('c-move')],
      ]),
    );
    const [curl, wado, getscu, cget, movescu, cmove] = ['curl', 'wado', 'getscu', 'c-get', 'movescu', 'c-move'].map((k) => results.medians.get(k) ?? NA);
    const ratio = (ours: string, ref: string) => pairedRatio(results.times, ours, ref);

    // Series → volume, on the instances as retrieved by WADO-RS
    const volDir = join(scratch, 'volume-input');
    await web.retrieveStudy(study, volDir);
    const vol = await measureVolume(volDir);

    const fmt = (x: number | string) => (typeof x === 'number' ? x.toFixed(3) : x);
    const lines = [
      `DICOM benchmark — ${prepared.source}: ${SLICES} slices 512×512 16-bit (${pixelMb.toFixed(0)} MB pixel data), Orthanc ${orthanc.aet} on loopback, median of ${RUNS} rounds (+1 warm-up), ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}`,
      '',
      '| operation | ours (s) | reference | reference (s) | ours / reference (median of per-round ratios) | target |',
      '|---|---|---|---|---|---|',
      `| C-GET study | ${fmt(cget)} | dcmtk getscu | ${fmt(getscu)} | ${ratio('c-get', 'getscu')} | ≤ 1.3× |`,
      `| C-MOVE study | ${fmt(cmove)} | dcmtk movescu + storescp | ${fmt(movescu)} | ${ratio('c-move', 'movescu')} | ≤ 1.3× |`,
      `| WADO-RS study | ${fmt(wado)} | curl (one multipart file) | ${fmt(curl)} | ${ratio('wado', 'curl')} | ≤ 1.3× |`,
      `| STOW-RS store (once, not a median) | ${stowSeconds.toFixed(3)} | — | — | — | — |`,
      '',
      '| series → volume | value | target |',
      '|---|---|---|',
      `| load time (s) | ${vol.seconds} | — |`,
      `| throughput (MB/s of pixel data) | ${vol.mbps} | ≥ 300 |`,
      `| peak RSS of the loading process | ${vol.rss} | — |`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const p of pacses) await p.close().catch(() => undefined);
    storescp?.kill();
    await orthanc?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--volume-worker') await volumeWorker(process.argv[3]);
else await main();
