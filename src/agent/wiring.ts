import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { DfaError, toDfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ImagingFhir } from '../core/ports.ts';
import { pacsFromConfig } from '../dicom/pacs-from-config.ts';
import { writeRtstruct } from '../dicom/rtstruct/write.ts';
import { writeSeg } from '../dicom/seg/write.ts';
import { loadVolume } from '../dicom/volume/index.ts';
import { openDatabase, type Database } from '../storage/db.ts';
import { LocalArtifactStore } from '../storage/local-artifacts.ts';
import type { JobDeps } from './jobs/deps.ts';
import { segmenterRegistry } from './segmenters.ts';

/**
 * The composition root: real services from Config, in one place (DESIGN.md "Contracts"). Unset
 * PACS / FHIR ⇒ the embedded dev servers. Tests and the demo pass `overrides` to swap any part.
 */
export interface Services {
  readonly deps: JobDeps;
  close(): Promise<void>;
}

export interface WireOptions {
  readonly overrides?: Partial<JobDeps>;
  /** Check that the PACS answers C-ECHO before any job starts (exit 2 when it does not). */
  readonly checkPacs?: boolean;
}

/** Builds the FHIR side; replaced once the fhir_handler's ImagingFhir lands (see report). */
export type FhirFactory = (cfg: Config, log: Logger) => Promise<{ fhir: ImagingFhir; close(): Promise<void> }>;

let fhirFactory: FhirFactory | undefined;
/** The fhir_handler registers its ImagingFhir builder here (or wiring imports it directly). */
export function registerFhirFactory(f: FhirFactory): void {
  fhirFactory = f;
}

export async function wireServices(cfg: Config, log: Logger, opts: WireOptions = {}): Promise<Services> {
  const o = opts.overrides ?? {};
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((e: unknown) => log.warn('close failed', { error: toDfaError(e).message }));
  };
  try {
    let pacs = o.pacs;
    if (!pacs) {
      const p = await pacsFromConfig(cfg, log);
      closers.push(() => p.close());
      pacs = p;
    }
    if (opts.checkPacs) {
      await pacs.echo().catch((e: unknown) => {
        throw new DfaError('SERVICE_UNREACHABLE', `PACS does not answer C-ECHO: ${toDfaError(e).message}`, { cause: e });
      });
    }
    let fhir = o.fhir;
    if (!fhir) {
      if (!fhirFactory) throw new DfaError('CONFIG_INVALID', 'no FHIR workflow (ImagingFhir) is wired into this build');
      const f = await fhirFactory(cfg, log);
      closers.push(() => f.close());
      fhir = f.fhir;
    }
    let segment = o.segment;
    if (!segment) {
      const reg = segmenterRegistry(cfg, log);
      closers.push(() => reg.close());
      segment = reg.segment;
    }
    const deps: JobDeps = {
      pacs,
      fhir,
      artifacts: o.artifacts ?? new LocalArtifactStore(join(cfg.DFA_DATA_DIR, 'artifacts')),
      loadVolume: o.loadVolume ?? ((files) => loadVolume(files)),
      segment,
      writeRtstruct: o.writeRtstruct ?? (async (i) => writeRtstruct({ volume: i.volume, labels: i.labels, manifest: i.manifest })),
      writeSeg: o.writeSeg ?? (async (i) => writeSeg({ volume: i.volume, labels: i.labels, manifest: i.manifest })),
      log: o.log ?? log,
    };
    return { deps, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Database + services, as `dfa run` and `dfa worker` need them. */
export async function openAgent(cfg: Config, log: Logger, opts: WireOptions = {}): Promise<Services & { db: Database }> {
  const db = await openDatabase(cfg);
  try {
    const s = await wireServices(cfg, log, opts);
    return {
      db,
      deps: s.deps,
      close: async () => {
        await s.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
