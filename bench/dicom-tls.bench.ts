/**
 * `npm run bench:dicom-tls` — what DICOM over TLS costs (issue 10 benchmark): C-GET of a 512×512×300
 * chest phantom from Orthanc over mutual TLS ÷ the same from Orthanc without TLS, ours; and, in the
 * same rounds, dcmtk's own TLS ÷ plain on the same 300 instances. dcmtk 3.6.7 (Debian 12) has no TLS
 * in getscu/movescu, so dcmtk's figure is storescu → storescp (+tls both), next to our C-STORE to that
 * storescp; getscu without TLS is the plain C-GET reference. Medians of BENCH_RUNS (default 5) rounds
 * after a warm-up; methods interleaved in alternating order; ratios are medians of per-round ratios.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../src/core/log.ts';
import { randomUid } from '../src/core/uid.ts';
import { DicomWebClient } from '../src/dicom/dicomweb/client.ts';
import type { TlsSettings } from '../src/dicom/dimse/tls.ts';
import { DimseClient } from '../src/dicom/dimse/scu.ts';
import { createPacs } from '../src/dicom/pacs.ts';
import { writePhantomSeries } from '../src/dicom/phantom/index.ts';
import { startOrthanc, type OrthancHandle } from '../test/support/orthanc.ts';
import { freePort } from '../test/support/ports.ts';
import { makeTestPki, type CertFiles } from '../test/support/tls-certs.ts';
import { envInt, median } from './support/bench-stats.ts';

const run = promisify(execFile);
const RUNS = envInt('BENCH_RUNS', 5);
const SLICES = envInt('BENCH_SLICES', 300);
const SIZE = envInt('BENCH_SIZE', 512);
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };
const quiet = createLogger({ level: 'error' });
const host = '127.0.0.1';

type Method = (dest: string) => Promise<number>;

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

async function startStorescp(port: number, out: string, tls: string[]): Promise<ChildProcess> {
  const p = spawn('storescp', [...tls, '-aet', 'BENCHSCP', '-od', out, String(port)], { env: DCMTK_ENV, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await run('echoscu', [...tls, '-aec', 'BENCHSCP', host, String(port)], { env: DCMTK_ENV });
      return p;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  p.kill();
  throw new Error('storescp did not start');
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'dfa-bench-tls-'));
  const pki = await makeTestPki();
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const dcmtkTls = (leaf: CertFiles) => ['+tls', leaf.key, leaf.cert, '+cf', pki.ca];
    const tlsConfig = (leaf: CertFiles) => ({
      DicomTlsEnabled: true, DicomTlsCertificate: leaf.cert, DicomTlsPrivateKey: leaf.key, DicomTlsTrustedCertificates: pki.ca, DicomTlsRemoteCertificateRequired: true,
    });
    const modalities = { dcmtk: { aet: 'BENCHSCU', port: 1 }, dfa: { aet: 'DFABENCH', port: 1 } };
    const plain: OrthancHandle = await startOrthanc({ modalities });
    stops.push(() => plain.stop());
    const secure: OrthancHandle = await startOrthanc({ modalities, extraConfig: tlsConfig(pki.server) });
    stops.push(() => secure.stop());

    const studyDir = join(scratch, 'study');
    const study = randomUid();
    process.stderr.write(`bench: generating a ${SIZE}x${SIZE}x${SLICES} chest phantom…\n`);
    const files = [...(await writePhantomSeries({ size: SIZE, slices: SLICES, studyInstanceUid: study }, studyDir, false)).files];
    for (const o of [plain, secure]) {
      const stored = await new DicomWebClient({ baseUrl: o.dicomWebUrl }).store(files);
      if (stored.some((s) => !s.ok)) throw new Error('STOW-RS failed');
    }

    const clientTls: TlsSettings = await pki.settings(pki.client);
    const ourGet = (o: OrthancHandle, tls?: TlsSettings): Method => {
      const pacs = createPacs({ dimse: { host, port: o.dicomPort, calledAet: o.aet, callingAet: 'DFABENCH', ...(tls ? { tls } : {}) }, retrieve: ['c-get'], store: 'c-store', log: quiet });
      stops.push(() => pacs.close());
      return async (dest) => (await pacs.retrieve({ studyInstanceUid: study }, dest)).instances.length;
    };
    const scpPlainPort = await freePort();
    const scpTlsPort = await freePort();
    const scpOut = join(scratch, 'storescp');
    await mkdir(scpOut);
    const scps = [await startStorescp(scpPlainPort, scpOut, []), await startStorescp(scpTlsPort, scpOut, dcmtkTls(pki.server))];
    stops.push(async () => scps.forEach((p) => p.kill()));
    const drained = async () => {
      const n = await countFiles(scpOut);
      await rm(scpOut, { recursive: true, force: true });
      await mkdir(scpOut);
      return n;
    };
    const storescu = (tls: string[], port: number): Method => async () => {
      await run('storescu', [...tls, '-aet', 'BENCHSCU', '-aec', 'BENCHSCP', host, String(port), ...files], { env: DCMTK_ENV, maxBuffer: 1 << 24 });
      return drained();
    };
    const ourStore = (port: number, tls?: TlsSettings): Method => async () => {
      const c = new DimseClient({ host, port, calledAet: 'BENCHSCP', callingAet: 'DFABENCH', ...(tls ? { tls } : {}) });
      const r = await c.store(files);
      if (r.some((x) => x.status.kind !== 'success')) throw new Error('C-STORE failed');
      return drained();
    };

    // (reference, ours) pairs; the order within each pair alternates between rounds.
    const methods: [string, Method][] = [
      ['getscu plain', async (dest) => {
        await run('getscu', ['-aet', 'BENCHSCU', '-aec', plain.aet, '-od', dest, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, host, String(plain.dicomPort)], { env: DCMTK_ENV });
        return countFiles(dest);
      }],
      ['ours C-GET plain', ourGet(plain)],
      ['ours C-GET TLS', ourGet(secure, clientTls)],
      ['ours C-GET plain (2)', ourGet(plain)],
      ['storescu plain', storescu([], scpPlainPort)],
      ['ours C-STORE plain', ourStore(scpPlainPort)],
      ['storescu TLS', storescu(dcmtkTls(pki.client), scpTlsPort)],
      ['ours C-STORE TLS', ourStore(scpTlsPort, clientTls)],
    ];
    const times = new Map<string, number[]>();
    // CPU seconds of this process (our side only; dcmtk and Orthanc are other processes): robust to
    // the machine's load, which the wall-clock ratios are not.
    const cpu = new Map<string, number[]>();
    for (let r = 0; r <= RUNS; r++) {
      const order = methods.map((_, i) => methods[r % 2 === 0 ? i : i ^ 1]);
      for (const [label, fn] of order) {
        const dest = join(scratch, `out-${r}`);
        await mkdir(dest, { recursive: true });
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const n = await fn(dest);
        const s = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        await rm(dest, { recursive: true, force: true });
        if (n !== SLICES) throw new Error(`${label}: ${n} instances, expected ${SLICES}`);
        if (r > 0) times.set(label, [...(times.get(label) ?? []), s]);
        if (r > 0) cpu.set(label, [...(cpu.get(label) ?? []), (c.user + c.system) / 1e6]);
      }
      process.stderr.write(`bench: round ${r}${r === 0 ? ' (warm-up)' : ''} done\n`);
    }
    const med = (k: string) => median(times.get(k) ?? []).toFixed(3);
    const ratio = (a: string, b: string) => {
      const x = times.get(a) ?? [];
      const y = times.get(b) ?? [];
      return `${median(x.map((v, i) => v / y[i])).toFixed(2)}×`;
    };
    // Plain C-GET ran twice per round, on both sides of the TLS one: TLS is compared with their mean.
    const plainGet = (times.get('ours C-GET plain') ?? []).map((v, i) => (v + (times.get('ours C-GET plain (2)') ?? [])[i]) / 2);
    times.set('ours C-GET plain (mean of 2)', plainGet);
    const cpuMed = (k: string) => median(cpu.get(k) ?? []).toFixed(3);
    const cpuRatio = (a: string, b: string) => `${(median(cpu.get(a) ?? []) / median(cpu.get(b) ?? [])).toFixed(2)}×`;
    const mb = (SIZE * SIZE * 2 * SLICES) / 1e6;
    process.stdout.write([
      `DICOM TLS benchmark — chest phantom ${SIZE}×${SIZE}×${SLICES} (${mb.toFixed(0)} MB pixel data), Orthanc 1.10 plain and with mutual DICOM TLS on loopback, median of ${RUNS} rounds (+1 warm-up), ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}`,
      '',
      '| operation | plain (s) | TLS (s) | TLS ÷ plain | target |',
      '|---|---|---|---|---|',
      `| ours: C-GET study from Orthanc | ${median(plainGet).toFixed(3)} | ${med('ours C-GET TLS')} | ${ratio('ours C-GET TLS', 'ours C-GET plain (mean of 2)')} | ≤ 1.3× |`,
      `| dcmtk: storescu → storescp, ${SLICES} instances | ${med('storescu plain')} | ${med('storescu TLS')} | ${ratio('storescu TLS', 'storescu plain')} | (reference) |`,
      `| ours: C-STORE → dcmtk storescp, ${SLICES} instances | ${med('ours C-STORE plain')} | ${med('ours C-STORE TLS')} | ${ratio('ours C-STORE TLS', 'ours C-STORE plain')} | — |`,
      '',
      '| our process CPU (s, median) | plain | TLS | TLS ÷ plain |',
      '|---|---|---|---|',
      `| C-GET study | ${cpuMed('ours C-GET plain')} | ${cpuMed('ours C-GET TLS')} | ${cpuRatio('ours C-GET TLS', 'ours C-GET plain')} |`,
      `| C-STORE ${SLICES} instances | ${cpuMed('ours C-STORE plain')} | ${cpuMed('ours C-STORE TLS')} | ${cpuRatio('ours C-STORE TLS', 'ours C-STORE plain')} |`,
      '',
      '| ours ÷ dcmtk, same run | ratio |',
      '|---|---|',
      `| C-GET plain: ours ÷ getscu (${med('getscu plain')} s) | ${ratio('ours C-GET plain (mean of 2)', 'getscu plain')} |`,
      `| C-GET over TLS (ours) ÷ getscu plain (getscu has no TLS in dcmtk 3.6.7) | ${ratio('ours C-GET TLS', 'getscu plain')} |`,
      `| C-STORE plain: ours ÷ storescu | ${ratio('ours C-STORE plain', 'storescu plain')} |`,
      `| C-STORE over TLS: ours ÷ storescu +tls | ${ratio('ours C-STORE TLS', 'storescu TLS')} |`,
    ].join('\n') + '\n');
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await pki.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
