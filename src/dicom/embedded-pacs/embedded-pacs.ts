/**
 * The embedded dev PACS: a DICOM node in this process answering C-ECHO, C-STORE, C-FIND
 * (study/series/instance), C-MOVE (to AEs it knows) and C-GET, over the index store on disk.
 * For `dfa demo` and local use with nothing installed; the same Pacs contract suite runs against it
 * and against Orthanc.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import { isLoopbackHost } from '../../core/loopback.ts';
import type { Logger } from '../../core/log.ts';
import type { DimseTimeouts } from '../dimse/association.ts';
import type { TlsSettings } from '../dimse/tls.ts';
import { splitPart10, str, strs, type Identifier } from '../dimse/dataset.ts';
import { DimseClient, type StoreItem } from '../dimse/scu.ts';
import { DicomServer, type RetrieveReport } from '../scp/server.ts';
import type { SubOperations } from '../dimse/scu.ts';
import { PacsIndexStore, type IndexedInstance } from './index-store.ts';
import { matchesIdentifier } from './matching.ts';
import { takePidLock, type PidLock } from '../../io/pid-lock.ts';

export interface KnownAe {
  readonly host: string;
  readonly port: number;
  /** Like Orthanc's AllowFind / AllowMove / AllowGet (default true). */
  readonly allowFind?: boolean;
  readonly allowMove?: boolean;
  readonly allowGet?: boolean;
  /** C-MOVE sub-operations to this AE go over TLS (like Orthanc's per-modality UseDicomTls). */
  readonly tls?: TlsSettings;
}

export interface EmbeddedPacsOptions {
  /** Directory of the PACS's files and index (DFA_DATA_DIR/pacs). */
  readonly dir: string;
  readonly aet?: string; // default 'DFA_PACS'
  readonly host?: string; // default 127.0.0.1
  readonly port?: number; // default 0 (any free port)
  /** C-MOVE destinations by AE title (PS3.4 C.4.2.2: the SCP must know where an AE lives). */
  readonly knownAes?: Readonly<Record<string, KnownAe>>;
  /** Calling AE titles accepted; undefined accepts any (a dev PACS on loopback). */
  readonly allowedAets?: readonly string[];
  readonly log: Logger;
  readonly timeouts?: Partial<DimseTimeouts>;
  /** Listen for DICOM over TLS (PS3.15 B.1) instead of plain TCP. */
  readonly tls?: TlsSettings;
}

const META_KEYS = new Set(['QueryRetrieveLevel', 'SpecificCharacterSet', '_vrMap']);

export class EmbeddedPacs {
  readonly store: PacsIndexStore;
  readonly server: DicomServer;
  readonly aet: string;
  private readonly knownAes: Map<string, KnownAe>;
  private readonly log: Logger;

  private constructor(store: PacsIndexStore, opts: EmbeddedPacsOptions) {
    this.store = store;
    this.aet = opts.aet ?? 'DFA_PACS';
    this.log = opts.log.child({ component: 'embedded-pacs' });
    this.knownAes = new Map(Object.entries(opts.knownAes ?? {}));
    this.server = new DicomServer({
      aet: this.aet,
      port: opts.port ?? 0,
      host: opts.host,
      allowedAets: opts.allowedAets,
      log: this.log,
      timeouts: opts.timeouts,
      tls: opts.tls,
      permits: (aet, service) => {
        const ae = this.knownAes.get(aet);
        if (!ae || service === 'store') return true;
        return (service === 'find' ? ae.allowFind : service === 'move' ? ae.allowMove : ae.allowGet) !== false;
      },
      handlers: {
        onStore: async (i) => {
          await this.store.put(i);
          return 0x0000;
        },
        onFind: async (q) => this.find(q),
        onMove: async (q, dest, ctx, progress) => this.move(q, dest, { aet: ctx.callingAet, messageId: ctx.messageId }, progress),
        onGet: async (q, _ctx, send, progress) => this.retrieveTo(this.select(q), async (e) => {
          const p10 = splitPart10(await readFile(this.store.pathOf(e)), e.file);
          return send({ sopClassUid: p10.sopClassUid, sopInstanceUid: p10.sopInstanceUid, transferSyntax: p10.transferSyntax, dataset: p10.dataset });
        }, progress),
      },
    });
  }

  /** One process per PACS directory (src/io/pid-lock.ts): two would append to one index blind to each other. */
  static async start(opts: EmbeddedPacsOptions): Promise<EmbeddedPacs> {
    // A dev PACS reachable from the network must at least know whom it talks to.
    if (opts.host && !isLoopbackHost(opts.host) && !opts.allowedAets?.length) {
      throw new DfaError('CONFIG_INVALID', `the embedded PACS on ${opts.host} (not loopback) needs an AE allow-list (dfa pacs --allow AET,…)`);
    }
    await mkdir(opts.dir, { recursive: true });
    const lock = takePidLock(join(opts.dir, 'pacs.lock'), (pid) =>
      new DfaError('SERVICE_UNREACHABLE', `the embedded PACS in ${opts.dir} is in use by process ${pid}; point DFA_PACS_HOST/PORT/AET at it instead`),
    );
    let p: EmbeddedPacs;
    try {
      p = new EmbeddedPacs(await PacsIndexStore.open(opts.dir), opts);
      await p.server.start();
    } catch (e) {
      lock.release();
      throw e;
    }
    p.lock = lock;
    p.log.debug('embedded PACS started', { aet: p.aet, host: p.host, port: p.port, dir: opts.dir, instances: p.store.size });
    return p;
  }

  get host(): string {
    return this.server.host;
  }
  get port(): number {
    return this.server.port;
  }

  /** Declare a C-MOVE destination (like Orthanc's DicomModalities). */
  addKnownAe(aet: string, ae: KnownAe): void {
    this.knownAes.set(aet, ae);
  }

  private lock: PidLock | undefined;

  async close(): Promise<void> {
    try {
      await this.server.close();
    } finally {
      this.lock?.release();
    }
  }

  // Query API for a DICOMweb face (delegates to the index).
  listStudies = (...a: Parameters<PacsIndexStore['listStudies']>) => this.store.listStudies(...a);
  listSeries = (...a: Parameters<PacsIndexStore['listSeries']>) => this.store.listSeries(...a);
  listInstances = (...a: Parameters<PacsIndexStore['listInstances']>) => this.store.listInstances(...a);
  instancePaths = (...a: Parameters<PacsIndexStore['instancePaths']>) => this.store.instancePaths(...a);

  /** PS3.4 C.4.1.3.1: match at the requested level, return the requested keys. */
  private find(q: Identifier): Identifier[] {
    const level = str(q, 'QueryRetrieveLevel') ?? 'STUDY';
    const keys: Record<string, string> = {};
    for (const k of Object.keys(q)) if (!META_KEYS.has(k)) keys[k] = k === 'ModalitiesInStudy' ? strs(q, k).join('\\') : (str(q, k) ?? '');
    let rows: Record<string, string | readonly string[] | undefined>[];
    if (level === 'STUDY') rows = this.store.studyRows();
    else if (level === 'SERIES') rows = this.store.seriesRows();
    else if (level === 'IMAGE') rows = this.store.instances().map((e) => ({ ...e }));
    else throw new Error(`query level ${level} not supported by the Study Root model`); // PS3.4 C.6.2
    const out: Identifier[] = [];
    for (const r of rows) {
      if (!matchesIdentifier(r, keys)) continue;
      const m: Identifier = { QueryRetrieveLevel: level };
      for (const k of Object.keys(keys)) m[k] = r[k] ?? '';
      out.push(m);
    }
    return out;
  }

  /** Instances a C-MOVE / C-GET identifier selects (PS3.4 C.4.2.1.4: unique keys down to the level). */
  private select(q: Identifier): IndexedInstance[] {
    const uids = (k: string) => (str(q, k) ?? '').split('\\').map((s) => s.trim()).filter(Boolean);
    const studies = uids('StudyInstanceUID');
    const series = uids('SeriesInstanceUID');
    const sops = uids('SOPInstanceUID');
    return this.store.instances().filter((e) =>
      (studies.length === 0 || studies.includes(e.StudyInstanceUID)) &&
      (series.length === 0 || series.includes(e.SeriesInstanceUID)) &&
      (sops.length === 0 || sops.includes(e.SOPInstanceUID)));
  }

  private async retrieveTo(list: IndexedInstance[], sendOne: (e: IndexedInstance) => Promise<number>, progress: (s: SubOperations) => void): Promise<RetrieveReport> {
    const s = { completed: 0, failed: 0, warning: 0, remaining: list.length };
    for (const e of list) {
      let status: number;
      try {
        status = await sendOne(e);
      } catch (err) {
        this.log.warn('sub-operation failed', { sopInstanceUid: e.SOPInstanceUID, error: (err as Error).message });
        status = 0xc000;
      }
      s.remaining--;
      if (status === 0) s.completed++;
      else if ((status & 0xf000) === 0xb000) s.warning++;
      else s.failed++;
      if (s.remaining > 0) progress({ ...s });
    }
    // PS3.4 C.4.2.1.5: B000 when some sub-operations failed, A702 when all did.
    const status = s.failed === 0 ? 0x0000 : s.completed + s.warning > 0 ? 0xb000 : 0xa702;
    return { status, ...s };
  }

  private async move(q: Identifier, destinationAet: string, originator: { aet: string; messageId: number }, progress: (s: SubOperations) => void): Promise<RetrieveReport> {
    const dest = this.knownAes.get(destinationAet);
    if (!dest) {
      this.log.warn(`C-MOVE destination '${destinationAet}' unknown: declare it with knownAes / addKnownAe (AE title, host, port)`);
      return { status: 0xa801, completed: 0, failed: 0, warning: 0, remaining: 0, errorComment: `Unknown destination ${destinationAet}`.slice(0, 64) };
    }
    const list = this.select(q);
    if (list.length === 0) return { status: 0, completed: 0, failed: 0, warning: 0, remaining: 0 };
    const client = new DimseClient({ host: dest.host, port: dest.port, calledAet: destinationAet, callingAet: this.aet, timeouts: this.server.opts.timeouts, tls: dest.tls });
    const items: StoreItem[] = list.map((e) => ({
      file: this.store.pathOf(e), sopClassUid: e.SOPClassUID, sopInstanceUid: e.SOPInstanceUID, transferSyntax: e.TransferSyntaxUID,
      load: async () => splitPart10(await readFile(this.store.pathOf(e)), e.file),
    }));
    const s = { completed: 0, failed: 0, warning: 0, remaining: list.length };
    try {
      await client.storeItems(items, {
        // PS3.7 9.1.1.1: the AE that asked for the C-MOVE and its Message ID, so the destination can tell our sub-operations apart.
        moveOriginator: originator,
        onResult: (r) => {
          s.remaining--;
          if (r.status.kind === 'success') s.completed++;
          else if (r.status.kind === 'warning') s.warning++;
          else s.failed++;
          if (s.remaining > 0) progress({ ...s });
        },
      });
    } catch (e) {
      this.log.warn('C-MOVE: cannot store to destination', { destinationAet, error: (e as Error).message });
      return { status: 0xa702, ...s, failed: s.failed + s.remaining, remaining: 0, errorComment: (e as Error).message.slice(0, 64) };
    }
    return { status: s.failed === 0 ? 0x0000 : s.completed + s.warning > 0 ? 0xb000 : 0xa702, ...s };
  }
}
