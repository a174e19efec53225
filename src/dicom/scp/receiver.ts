/**
 * "Our DICOM node": a C-STORE/C-ECHO SCP (AE DFA_AET, port DFA_SCP_PORT) that routes every received
 * instance either to a retrieval waiting for it (C-MOVE sub-operations for a study or series) or to
 * the inbox in the artifact store (`inbox/<study>/<series>/<sop>.dcm`) or a plain directory.
 */
import { join } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import type { ArtifactStore, RetrievedInstance } from '../../core/ports.ts';
import type { DimseTimeouts } from '../dimse/association.ts';
import { dimseLimits, type DimseLimits } from '../dimse/limits.ts';
import type { TlsSettings } from '../dimse/tls.ts';
import { tlsFromConfig } from '../tls-from-config.ts';
import type { IncomingInstance } from '../dimse/scu.ts';
import { InstanceFiles, fileNameFor, placeOf, writeInstanceFile } from './instance-file.ts';
import { allowedPeers, type AllowedPeer } from './peers.ts';
import { DicomServer } from './server.ts';

/** A retrieval waiting for instances of one study (or series) to arrive. */
export interface Expectation {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid?: string;
  readonly destDir: string;
  readonly received: RetrievedInstance[];
  /** Message ID to give our C-MOVE: the PACS's sub-operations carry it back as Move Originator Message ID. */
  readonly moveMessageId: number;
  /**
   * The first write failure, if any. Every instance routed here is on disk (or answered as failed)
   * before its C-STORE response goes out, so there is nothing left to wait for.
   */
  settle(): Promise<string | undefined>;
  /** Stop routing to this expectation. */
  done(): void;
}

export interface ScpOptions {
  readonly aet: string;
  readonly port: number;
  readonly host?: string;
  /** Calling AEs accepted (DFA_SCP_ALLOWED_AETS); undefined accepts any. */
  readonly allowedAets?: readonly string[];
  /** Calling AEs bound to source hosts (DFA_SCP_ALLOWED_PEERS); required off loopback. */
  readonly allowedPeers?: readonly AllowedPeer[];
  readonly maxAssociations?: number;
  readonly limits?: Partial<DimseLimits>;
  /** Where unexpected pushes go: an artifact store (under inbox/) or a directory. */
  readonly sink: { readonly artifacts: ArtifactStore } | { readonly dir: string };
  readonly log: Logger;
  readonly timeouts?: Partial<DimseTimeouts>;
  /** Called for each instance written to the inbox (not for expected retrievals), with its sender. */
  readonly onInboxed?: (r: RetrievedInstance, from: { readonly callingAet: string }) => void;
  /** DICOM over TLS (PS3.15 B.1) on `port` (DFA_SCP_TLS), or with `tlsPort` on a second port beside plain `port` (DFA_SCP_TLS_PORT). */
  readonly tls?: TlsSettings;
  readonly tlsPort?: number;
}

export class DicomScp {
  readonly server: DicomServer;
  private readonly expectations = new Set<Expectation & { failure?: string; files: InstanceFiles; pacsAet?: string }>();
  private lastMoveMessageId = 0;
  private readonly opts: ScpOptions;
  /** Instances that went to the inbox since start (newest last). */
  readonly inbox: RetrievedInstance[] = [];

  constructor(opts: ScpOptions) {
    this.opts = opts;
    this.server = new DicomServer({
      aet: opts.aet,
      port: opts.port,
      host: opts.host,
      allowedAets: opts.allowedAets,
      ...(opts.allowedPeers ? { allowedPeers: opts.allowedPeers } : {}),
      ...(opts.maxAssociations ? { maxAssociations: opts.maxAssociations } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
      log: opts.log,
      timeouts: opts.timeouts,
      tls: opts.tls,
      tlsPort: opts.tlsPort,
      handlers: { onStore: (i) => this.onStore(i) },
      transientDatasets: true, // onStore has written the instance (or failed) when it settles
    });
  }

  get port(): number {
    return this.server.port;
  }
  get host(): string {
    return this.server.host;
  }
  get aet(): string {
    return this.opts.aet;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /**
   * Route instances of this study (or series) to destDir until `done()`. With `from.pacsAet`, only
   * C-STORE sub-operations of our C-MOVE join it (PS3.7 9.1.1.1, PS3.4 C.4.2.3.1): sent by that AE,
   * naming our AE as Move Originator and `moveMessageId` as Move Originator Message ID.
   */
  expect(studyInstanceUid: string, seriesInstanceUid: string | undefined, destDir: string, from: { pacsAet?: string } = {}): Expectation {
    const files = new InstanceFiles(destDir);
    const e: Expectation & { failure?: string; files: InstanceFiles; pacsAet?: string } = {
      studyInstanceUid,
      ...(seriesInstanceUid ? { seriesInstanceUid } : {}),
      ...(from.pacsAet ? { pacsAet: from.pacsAet } : {}),
      destDir,
      received: [],
      moveMessageId: this.nextMoveMessageId(),
      files,
      settle: async () => e.failure,
      done: () => {
        this.expectations.delete(e);
        files.dispose();
      },
    };
    this.expectations.add(e);
    files.prepare();
    return e;
  }

  /** Message IDs unique among running retrievals (1..65535, PS3.7 E.1 US). */
  private nextMoveMessageId(): number {
    const used = new Set([...this.expectations].map((e) => e.moveMessageId));
    do this.lastMoveMessageId = (this.lastMoveMessageId % 0xffff) + 1;
    while (used.has(this.lastMoveMessageId));
    return this.lastMoveMessageId;
  }

  private joins(e: Expectation & { pacsAet?: string }, i: IncomingInstance, place: { studyInstanceUid: string; seriesInstanceUid: string }): boolean {
    if (e.studyInstanceUid !== place.studyInstanceUid || (e.seriesInstanceUid && e.seriesInstanceUid !== place.seriesInstanceUid)) return false;
    if (e.pacsAet === undefined) return true;
    return i.callingAet === e.pacsAet && i.moveOriginatorAet === this.opts.aet && i.moveOriginatorMessageId === e.moveMessageId;
  }

  private async onStore(i: IncomingInstance): Promise<number> {
    const place = placeOf(i);
    for (const e of this.expectations) {
      if (this.joins(e, i, place)) {
        // Answered once the file is in place: a write that failed is reported to the sender as a
        // failed sub-operation (PS3.4 B.2.3, 0xA700 out of resources), never as stored.
        try {
          e.received.push(await e.files.write(i, place));
          return 0x0000;
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          e.failure ??= why;
          this.opts.log.warn('could not write a received instance; answered C-STORE with 0xA700', { sopInstanceUid: i.sopInstanceUid, error: why });
          return 0xa700;
        }
      }
    }
    const sink = this.opts.sink;
    // UIDs come from the sender: keep only UID characters so a crafted value cannot leave the inbox.
    const safe = (uid: string, dflt: string) => (uid ? uid.replace(/[^0-9.]/g, '_').replace(/^\.+/, '_') : dflt);
    const rel = join(safe(place.studyInstanceUid, 'unknown-study'), safe(place.seriesInstanceUid, 'unknown-series'));
    const dir = 'artifacts' in sink ? await sink.artifacts.dir(`inbox/${rel}`) : join(sink.dir, rel);
    const r = await writeInstanceFile(join(dir, fileNameFor(i.sopInstanceUid)), i, place);
    this.inbox.push(r);
    this.opts.onInboxed?.(r, { callingAet: i.callingAet });
    this.opts.log.info('instance received', { callingAet: i.callingAet, sopInstanceUid: i.sopInstanceUid, path: r.path });
    return 0x0000;
  }
}

/**
 * Our SCP from configuration: AE DFA_AET on DFA_SCP_PORT; allow-list DFA_SCP_ALLOWED_AETS, else the
 * PACS AE; DFA_SCP_ALLOWED_PEERS binds AEs to hosts (required when DFA_SCP_HOST is not loopback).
 */
export function scpFromConfig(config: Config, sink: ScpOptions['sink'], log: Logger, onInboxed?: ScpOptions['onInboxed']): DicomScp {
  const allowed = config.DFA_SCP_ALLOWED_AETS ?? (config.DFA_PACS_AET ? [config.DFA_PACS_AET] : undefined);
  const peers = allowedPeers(config);
  return new DicomScp({
    aet: config.DFA_AET, port: config.DFA_SCP_PORT, host: config.DFA_SCP_HOST, allowedAets: allowed, sink, log, onInboxed,
    ...(peers ? { allowedPeers: peers } : {}), maxAssociations: config.DFA_SCP_MAX_ASSOCIATIONS, limits: dimseLimits(config),
    ...(config.DFA_SCP_TLS || config.DFA_SCP_TLS_PORT !== undefined ? { tls: tlsFromConfig(config) } : {}),
    ...(config.DFA_SCP_TLS_PORT !== undefined ? { tlsPort: config.DFA_SCP_TLS_PORT } : {}),
    timeouts: { connectMs: config.DFA_DIMSE_CONNECT_TIMEOUT_MS, associationMs: config.DFA_DIMSE_ASSOCIATION_TIMEOUT_MS, dimseMs: config.DFA_DIMSE_TIMEOUT_MS, idleMs: config.DFA_DIMSE_IDLE_TIMEOUT_MS },
  });
}
