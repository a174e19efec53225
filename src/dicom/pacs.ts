/**
 * The `Pacs` port (src/core/ports.ts) over DIMSE and/or DICOMweb: queries by C-FIND (QIDO-RS when
 * only DICOMweb is configured), retrieval by the methods of DFA_RETRIEVE in order with fallback
 * (refused, timeout or partial sub-operations ⇒ the next method, and the log says why), storage by
 * C-STORE or STOW-RS (DFA_STORE).
 */
import { mkdir } from 'node:fs/promises';
import type { RetrieveMethod, StoreMethod } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { InstanceRecord, Pacs, RetrieveAttempt, RetrievedInstance, SeriesRecord, StoreOutcome, StudyQuery, StudyRecord } from '../core/ports.ts';
import { DicomWebClient, type DicomWebClientOptions } from './dicomweb/client.ts';
import type { DimseTimeouts } from './dimse/association.ts';
import type { PeerOptions } from './dimse/connect.ts';
import type { DimseLimits } from './dimse/limits.ts';
import type { TlsSettings } from './dimse/tls.ts';
import { instanceIdentifier, seriesIdentifier, studyIdentifier, toInstanceRecord, toSeriesRecord, toStudyRecord } from './dimse/queries.ts';
import { DimseClient, type RetrieveOutcome } from './dimse/scu.ts';
import { InstanceFiles } from './scp/instance-file.ts';
import type { AllowedPeer } from './scp/peers.ts';
import { DicomScp } from './scp/receiver.ts';

export interface PacsOptions {
  /** The PACS's DICOM node; our AE title is `callingAet`. */
  readonly dimse?: { readonly host: string; readonly port: number; readonly calledAet: string; readonly callingAet: string; readonly timeouts?: Partial<DimseTimeouts>;
    readonly limits?: Partial<DimseLimits>; readonly tls?: TlsSettings };
  readonly dicomweb?: DicomWebClientOptions;
  readonly retrieve: readonly RetrieveMethod[];
  readonly store: StoreMethod;
  /**
   * Where C-MOVE sends instances: a running SCP of ours (shared with `dfa serve`), or where to start
   * one on first use (AE = dimse.callingAet; it accepts only the PACS's AE title).
   */
  readonly moveScp?: DicomScp | {
    readonly host: string; readonly port: number; readonly inboxDir: string; readonly aet?: string;
    readonly allowedPeers?: readonly AllowedPeer[]; readonly maxAssociations?: number; readonly limits?: Partial<DimseLimits>; readonly tls?: TlsSettings;
  };
  readonly log: Logger;
}

export interface DicomPacs extends Pacs {
  readonly dimse?: DimseClient;
  readonly web?: DicomWebClient;
}

class CompositePacs implements DicomPacs {
  readonly dimse?: DimseClient;
  readonly web?: DicomWebClient;
  private readonly opts: PacsOptions;
  private readonly log: Logger;
  private scp?: DicomScp;
  private ownsScp = false;

  constructor(opts: PacsOptions) {
    this.opts = opts;
    this.log = opts.log.child({ component: 'pacs' });
    if (opts.dimse) {
      const ms = opts.moveScp;
      const ourScp = ms ? { host: ms.host, port: ms.port } : undefined;
      const peer: PeerOptions = { ...opts.dimse, ...(ourScp ? { ourScp } : {}) };
      this.dimse = new DimseClient(peer);
    }
    if (opts.dicomweb) this.web = new DicomWebClient({ ...opts.dicomweb, log: opts.dicomweb.log ?? opts.log });
    if (opts.moveScp instanceof DicomScp) this.scp = opts.moveScp;
    if (!this.dimse && !this.web) throw new DfaError('CONFIG_INVALID', 'no PACS configured: set DFA_PACS_HOST/DFA_PACS_PORT/DFA_PACS_AET or DFA_DICOMWEB_URL');
  }

  async echo(): Promise<void> {
    if (this.dimse) {
      const s = await this.dimse.echo();
      if (s.kind !== 'success') throw new DfaError('DICOM_OPERATION_FAILED', `C-ECHO answered ${s.text}`, { details: { status: s.status } });
      return;
    }
    await this.web!.qidoStudies({ studyInstanceUid: '0' }); // PS3.18 10.6: any answer proves the service is up
  }

  async findStudies(q: StudyQuery): Promise<StudyRecord[]> {
    if (this.dimse) return (await this.dimse.findOne(studyIdentifier(q))).map(toStudyRecord);
    return this.web!.qidoStudies(q);
  }

  async findSeries(studyInstanceUid: string, q: { modality?: string } = {}): Promise<SeriesRecord[]> {
    if (this.dimse) return (await this.dimse.findOne(seriesIdentifier(studyInstanceUid, q))).map(toSeriesRecord);
    return this.web!.qidoSeries(studyInstanceUid, q);
  }

  async findInstances(studyInstanceUid: string, seriesInstanceUid: string): Promise<InstanceRecord[]> {
    if (this.dimse) {
      const r = (await this.dimse.findOne(instanceIdentifier(studyInstanceUid, seriesInstanceUid))).map(toInstanceRecord);
      return r.sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0));
    }
    return this.web!.qidoInstances(studyInstanceUid, seriesInstanceUid);
  }

  async retrieve(req: { studyInstanceUid: string; seriesInstanceUid?: string }, destDir: string) {
    await mkdir(destDir, { recursive: true });
    const attempts: RetrieveAttempt[] = [];
    const what = req.seriesInstanceUid ? `series ${req.seriesInstanceUid}` : `study ${req.studyInstanceUid}`;
    for (const [i, method] of this.opts.retrieve.entries()) {
      const t0 = performance.now();
      let instances: RetrievedInstance[] = [];
      let reason: string | undefined;
      try {
        const r = await this.retrieveWith(method, req, destDir);
        instances = r.instances;
        reason = r.problem;
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
      const ms = Math.round(performance.now() - t0);
      if (reason === undefined) {
        attempts.push({ method, ok: true, ms });
        this.log.info(`retrieved ${what} by ${method}`, { instances: instances.length, ms });
        return { method, instances, attempts };
      }
      attempts.push({ method, ok: false, reason, ms });
      const next = this.opts.retrieve[i + 1];
      this.log.warn(`retrieve by ${method} failed${next ? `, trying ${next}` : ''}: ${reason}`, { studyInstanceUid: req.studyInstanceUid, ms });
    }
    throw new DfaError('RETRIEVE_FAILED', `could not retrieve ${what}: ${attempts.map((a) => `${a.method}: ${a.reason}`).join('; ')}`, { details: { attempts } });
  }

  /** One method; `problem` set means "try the next one". */
  private async retrieveWith(method: RetrieveMethod, req: { studyInstanceUid: string; seriesInstanceUid?: string }, destDir: string): Promise<{ instances: RetrievedInstance[]; problem?: string }> {
    switch (method) {
      case 'c-get': {
        if (!this.dimse) return { instances: [], problem: 'no DIMSE peer configured (DFA_PACS_HOST)' };
        const instances: RetrievedInstance[] = [];
        let writeProblem: string | undefined;
        const files = new InstanceFiles(destDir);
        files.prepare();
        let outcome: RetrieveOutcome;
        try {
          outcome = await this.dimse.get(req, async (inst) => {
            // Answered once the file is in place: a write that failed goes back to the PACS as a failed
            // sub-operation (PS3.4 B.2.3, 0xA700 out of resources), never as stored.
            try {
              instances.push(await files.write(inst));
              return 0x0000;
            } catch (e) {
              writeProblem ??= e instanceof Error ? e.message : String(e);
              return 0xa700;
            }
          }, { transientDatasets: true }); // the instance is on disk (or failed) when the handler settles
        } finally {
          files.dispose();
        }
        if (writeProblem) return { instances, problem: `C-GET: could not write a received instance to ${destDir}: ${writeProblem}` };
        return { instances, problem: judge('C-GET', outcome, instances.length) };
      }
      case 'c-move': {
        if (!this.dimse) return { instances: [], problem: 'no DIMSE peer configured (DFA_PACS_HOST)' };
        const scp = await this.moveDestination();
        // Only the PACS's C-STORE sub-operations for this C-MOVE (Move Originator AE and Message ID,
        // PS3.7 9.1.1.1) join this retrieval; anything else pushed meanwhile goes to the inbox.
        const exp = scp.expect(req.studyInstanceUid, req.seriesInstanceUid, destDir, { pacsAet: this.dimse.peer.calledAet });
        const tlsRefusedBefore = scp.server.tlsRefused;
        try {
          const outcome = await this.dimse.move(req, scp.aet, { messageId: exp.moveMessageId });
          const writeProblem = await exp.settle();
          if (writeProblem) return { instances: [...exp.received], problem: `C-MOVE: could not write a received instance to ${destDir}: ${writeProblem}` };
          let problem = judge('C-MOVE', outcome, exp.received.length);
          const tlsRefused = scp.server.tlsRefused - tlsRefusedBefore;
          if (problem && tlsRefused > 0) {
            problem += ` — our SCP refused ${tlsRefused} TLS connection(s) meanwhile (its log says why: the PACS's certificate, or TLS off on its side)`;
          } else if (problem && exp.received.length === 0 && outcome.kind === 'failure') {
            problem += ` — if the PACS log says the destination is unknown, add AE '${scp.aet}' at ${scp.host}:${scp.port} to its modality list`;
          }
          return { instances: [...exp.received], problem };
        } finally {
          exp.done();
        }
      }
      case 'wado-rs': {
        if (!this.web) return { instances: [], problem: 'no DICOMweb endpoint configured (DFA_DICOMWEB_URL)' };
        const instances = req.seriesInstanceUid
          ? await this.web.retrieveSeries(req.studyInstanceUid, req.seriesInstanceUid, destDir)
          : await this.web.retrieveStudy(req.studyInstanceUid, destDir);
        return { instances, problem: instances.length === 0 ? 'WADO-RS returned no instances' : undefined };
      }
      default:
        return { instances: [], problem: `unknown retrieve method ${String(method)}` };
    }
  }

  private async moveDestination(): Promise<DicomScp> {
    if (this.scp) return this.scp;
    const ms = this.opts.moveScp;
    if (!ms || ms instanceof DicomScp || !this.opts.dimse) throw new DfaError('CONFIG_INVALID', 'C-MOVE needs our SCP (DFA_SCP_PORT)');
    this.scp = await new DicomScp({
      aet: ms.aet ?? this.opts.dimse.callingAet, host: ms.host, port: ms.port, allowedAets: [this.opts.dimse.calledAet],
      ...(ms.allowedPeers ? { allowedPeers: ms.allowedPeers } : {}), ...(ms.maxAssociations ? { maxAssociations: ms.maxAssociations } : {}),
      limits: ms.limits ?? this.opts.dimse.limits,
      sink: { dir: ms.inboxDir }, log: this.opts.log, timeouts: this.opts.dimse.timeouts, tls: ms.tls,
    }).start();
    this.ownsScp = true;
    return this.scp;
  }

  async store(files: readonly string[]): Promise<StoreOutcome[]> {
    if (this.opts.store === 'stow-rs') {
      if (!this.web) throw new DfaError('CONFIG_INVALID', 'DFA_STORE=stow-rs needs DFA_DICOMWEB_URL');
      return this.web.store(files);
    }
    if (!this.dimse) throw new DfaError('CONFIG_INVALID', 'DFA_STORE=c-store needs DFA_PACS_HOST/DFA_PACS_PORT/DFA_PACS_AET');
    const results = await this.dimse.store(files);
    return results.map((r) => ({
      sopInstanceUid: r.sopInstanceUid,
      ok: r.status.kind === 'success' || r.status.kind === 'warning',
      status: r.status.status,
      ...(r.status.kind === 'success' ? {} : { reason: r.status.errorComment ? `${r.status.text}: ${r.status.errorComment}` : r.status.text }),
    }));
  }

  async close(): Promise<void> {
    if (this.ownsScp && this.scp) await this.scp.close();
    this.scp = undefined;
  }
}

/** Why a C-GET / C-MOVE result is not good enough (undefined when it is). */
function judge(what: string, o: RetrieveOutcome, received: number): string | undefined {
  const counts = `${o.completed} completed, ${o.failed} failed, ${o.warning} warning`;
  if (o.kind === 'failure' || o.kind === 'cancel') return `${what} answered ${o.text}${o.errorComment ? ` (${o.errorComment})` : ''}; ${counts}`;
  if (o.failed > 0) return `${what} partial: ${counts}`;
  if (received === 0) return `${what} delivered no instances (${counts})`;
  if (received < o.completed) return `${what} reported ${o.completed} sub-operations completed but ${received} instances arrived`;
  return undefined;
}

export function createPacs(opts: PacsOptions): DicomPacs {
  return new CompositePacs(opts);
}
