/**
 * Starts a real Orthanc (Debian `orthanc` + `orthanc-dicomweb`) for a test file: its own temp
 * storage, free ports, DICOMweb plugin, and the DicomModalities the test declares (Orthanc refuses
 * C-FIND/C-GET/C-MOVE from AE titles not listed, and a C-MOVE destination must be listed too).
 * Orthanc has no bind option and listens on all interfaces; tests talk to it on 127.0.0.1 only.
 * TCP_NODELAY=1 avoids DCMTK's ~50 ms delayed-ACK stall per instance (DESIGN.md gotchas).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export const ORTHANC_BIN = process.env.ORTHANC_BIN ?? '/usr/sbin/Orthanc';
export const ORTHANC_PLUGINS = process.env.ORTHANC_PLUGINS ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancModality {
  aet: string;
  host?: string; // default 127.0.0.1
  port: number;
  /** Orthanc reaches this modality over DICOM TLS (UseDicomTls, Orthanc ≥ 1.9). */
  tls?: boolean;
}

export interface OrthancOptions {
  aet?: string; // default 'ORTHANC'
  modalities?: Record<string, OrthancModality>;
  /** HTTP basic auth users; when set, the REST API and DICOMweb require them. */
  users?: Record<string, string>;
  extraConfig?: Record<string, unknown>;
}

export interface OrthancHandle {
  aet: string;
  host: '127.0.0.1';
  dicomPort: number;
  httpPort: number;
  httpUrl: string; // http://127.0.0.1:<port>
  dicomWebUrl: string; // <httpUrl>/dicom-web
  storageDir: string;
  /** REST helper (basic auth applied when users were set). */
  rest(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Stop the Orthanc process only (an outage): the same storage and ports come back with `start()`.
   * SIGTERM (default) is a graceful stop: Orthanc finishes the associations in progress first, which
   * lets a short study run complete during the "outage"; SIGKILL is a crash, unreachable at once.
   */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start the process again after `halt()`, on the same ports with the same storage. */
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOrthanc(opts: OrthancOptions = {}): Promise<OrthancHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-orthanc-'));
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const aet = opts.aet ?? 'ORTHANC';
  const modalities: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(opts.modalities ?? {})) {
    modalities[name] = { AET: m.aet, Host: m.host ?? '127.0.0.1', Port: m.port, AllowEcho: true, AllowFind: true, AllowMove: true, AllowGet: true, AllowStore: true, ...(m.tls ? { UseDicomTls: true } : {}) };
  }
  const config = {
    Name: 'dfa-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: [ORTHANC_PLUGINS],
    DicomAet: aet,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: opts.users !== undefined,
    RegisteredUsers: opts.users ?? {},
    DicomCheckCalledAet: true,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true, // C-STORE from unknown AEs; queries/retrieves still need DicomModalities
    DicomCheckModalityHost: false,
    DicomModalities: modalities,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
    StorageCompression: false,
    HttpCompressionEnabled: false,
    KeepAlive: true,
    TcpNoDelay: true,
    ConcurrentJobs: 2,
    DicomThreadsCount: 4,
    HttpThreadsCount: 8,
    StableAge: 1,
    ...opts.extraConfig,
  };
  const cfgPath = join(dir, 'orthanc.json');
  await writeFile(cfgPath, JSON.stringify(config, null, 2));
  let proc: ChildProcess;
  let stderr = '';
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const auth = opts.users ? 'Basic ' + Buffer.from(Object.entries(opts.users)[0].join(':')).toString('base64') : undefined;
  const rest = (path: string, init: RequestInit = {}) =>
    fetch(httpUrl + path, { ...init, headers: { ...(auth ? { Authorization: auth } : {}), ...(init.headers as Record<string, string> | undefined) } });

  /** Start the Orthanc process on the config above and wait until its REST API answers. */
  const launch = async () => {
    const p: ChildProcess = spawn(ORTHANC_BIN, [cfgPath], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc = p;
    p.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
    });
    const deadline = Date.now() + 20000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`Orthanc exited (${p.exitCode}): ${stderr}`);
      try {
        const r = await rest('/system');
        if (r.ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`Orthanc did not start within 20 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Stop the process (SIGTERM, then SIGKILL after 5 s; or SIGKILL at once); its storage stays. */
  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const p = proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  await launch();
  return {
    aet,
    host: '127.0.0.1',
    dicomPort,
    httpPort,
    httpUrl,
    dicomWebUrl: `${httpUrl}/dicom-web`,
    storageDir: dir,
    rest,
    halt,
    async restart() {
      await halt();
      await launch();
    },
    async start() {
      await launch();
    },
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
