/**
 * DIMSE service user: C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE (PS3.4 annex A, B, C, PS3.7 9.1).
 * Each call opens one association and runs all its requests on it. DIMSE statuses come back as
 * values; only faults (no connection, rejection, timeout) throw DfaError.
 */
import { DfaError } from '../../core/errors.ts';
import type { Association, DimseMessage } from './association.ts';
import { CMD, statusKind, statusText, type StatusKind } from './command.ts';
import { buildContexts, openAssociation, registerHint, type PeerOptions } from './connect.ts';
import { decodeIdentifier, encodeIdentifier, type Identifier, type Part10 } from './dataset.ts';
import { readPart10, readPart10Head } from './part10-head.ts';
import { retrieveIdentifier, type QueryLevel } from './queries.ts';
import { ACCEPTED_TRANSFER_SYNTAXES, STORAGE_SOP_CLASSES, STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE, TS, VERIFICATION } from './uids.ts';

export interface DimseStatus {
  readonly status: number;
  readonly kind: StatusKind;
  readonly text: string;
  readonly errorComment?: string;
}
export interface SubOperations {
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  readonly remaining: number;
}
export interface RetrieveOutcome extends DimseStatus, SubOperations {}
export interface StoreItem {
  readonly file: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntax: string;
  load(): Promise<Part10>;
}
export interface StoreResult {
  readonly file: string;
  readonly sopInstanceUid: string;
  readonly status: DimseStatus;
}
export interface StoreOptions {
  /** PS3.7 9.1.1.1: set on C-STORE sub-operations of a C-MOVE. */
  readonly moveOriginator?: { readonly aet: string; readonly messageId: number };
  readonly onResult?: (r: StoreResult) => void;
}

/** An instance arriving over C-STORE (from a C-GET on our association, or pushed to our SCP). */
export interface IncomingInstance {
  readonly callingAet: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntax: string;
  readonly dataset: Buffer;
  readonly moveOriginatorAet?: string;
  readonly moveOriginatorMessageId?: number;
}
/** Returns the C-STORE status to answer (0x0000 stored; 0xA700 out of resources; 0xC000 cannot process). */
export type InstanceHandler = (i: IncomingInstance) => Promise<number>;

export function toStatus(m: DimseMessage): DimseStatus {
  const status = m.command.status ?? 0;
  return { status, kind: statusKind(status), text: statusText(status), ...(m.command.errorComment ? { errorComment: m.command.errorComment } : {}) };
}
function subOps(m: DimseMessage): SubOperations {
  const c = m.command;
  return { completed: c.completed ?? 0, failed: c.failed ?? 0, warning: c.warning ?? 0, remaining: c.remaining ?? 0 };
}

const QR_TS = [TS.EXPLICIT_LE, TS.IMPLICIT_LE];

export class DimseClient {
  readonly peer: PeerOptions;

  constructor(peer: PeerOptions) {
    this.peer = peer;
  }

  private who(): string {
    return `${this.peer.calledAet} at ${this.peer.host}:${this.peer.port}`;
  }

  /** Run `fn` on one association proposing `abstractSyntaxes` (or explicit `items`); always released afterwards. */
  async withAssociation<T>(abstractSyntaxes: readonly string[], fn: (a: Association) => Promise<T>, storageForGet = false,
    extra: readonly { abstractSyntax: string; transferSyntaxes: readonly string[] }[] = []): Promise<T> {
    const items = [...abstractSyntaxes.map((s) => ({ abstractSyntax: s, transferSyntaxes: QR_TS as readonly string[] })), ...extra];
    // C-GET: two contexts per storage class (PS3.8 9.3.2.2 allows several per abstract syntax), one
    // for implicit VR and one for everything else, so the PACS can send each instance in the transfer
    // syntax it is stored in instead of transcoding it (71 contexts of the 128 allowed).
    if (storageForGet) {
      const others = ACCEPTED_TRANSFER_SYNTAXES.filter((t) => t !== TS.IMPLICIT_LE);
      for (const s of STORAGE_SOP_CLASSES) items.push({ abstractSyntax: s, transferSyntaxes: others }, { abstractSyntax: s, transferSyntaxes: [TS.IMPLICIT_LE] });
    }
    const roles = storageForGet ? STORAGE_SOP_CLASSES.map((s) => ({ sopClassUid: s, scu: false, scp: true })) : [];
    const a = await openAssociation(this.peer, buildContexts(items), roles);
    try {
      return await fn(a);
    } finally {
      if (a.isOpen) await a.release();
    }
  }

  /** Many PACS (Orthanc among them) abort the association when an unknown AE sends a query or retrieve. */
  private async qr<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof DfaError && e.code === 'DICOM_CONNECTION_FAILED') {
        throw new DfaError('DICOM_AE_NOT_ALLOWED', `${this.who()} aborted ${what} from calling AE '${this.peer.callingAet}' — PACS do this when they do not know the calling AE or it may not use ${what}: ${registerHint(this.peer)} and allow ${what}`,
          { cause: e, details: { calledAet: this.peer.calledAet, callingAet: this.peer.callingAet } });
      }
      throw e;
    }
  }

  private contextOrThrow(a: Association, abstractSyntax: string, what: string): number {
    const c = a.contextFor(abstractSyntax);
    if (!c) {
      throw new DfaError('DICOM_AE_NOT_ALLOWED', `${this.who()} accepted the association but refused ${what} for calling AE '${this.peer.callingAet}' (presentation context rejected): ${registerHint(this.peer)} and allow ${what}`,
        { details: { calledAet: this.peer.calledAet, callingAet: this.peer.callingAet, abstractSyntax } });
    }
    return c.id;
  }

  async echo(): Promise<DimseStatus> {
    return this.withAssociation([VERIFICATION], async (a) => {
      const id = this.contextOrThrow(a, VERIFICATION, 'C-ECHO');
      return toStatus(await a.request(id, { commandField: CMD.C_ECHO_RQ, affectedSopClassUid: VERIFICATION, hasDataset: false }, undefined, 'C-ECHO'));
    });
  }

  /** C-FIND for each identifier on one association; matches in order, plus each query's final status. */
  async find(identifiers: readonly Identifier[]): Promise<{ matches: Identifier[]; status: DimseStatus }[]> {
    return this.withAssociation([STUDY_ROOT_FIND], async (a) => {
      const id = this.contextOrThrow(a, STUDY_ROOT_FIND, 'C-FIND');
      const ts = a.contexts.get(id)?.transferSyntax ?? TS.IMPLICIT_LE;
      const out: { matches: Identifier[]; status: DimseStatus }[] = [];
      for (const q of identifiers) {
        const matches: Identifier[] = [];
        const final = await this.qr('C-FIND', () => a.request(id, { commandField: CMD.C_FIND_RQ, affectedSopClassUid: STUDY_ROOT_FIND, priority: 0, hasDataset: true },
          encodeIdentifier(q, ts), `C-FIND ${String(q.QueryRetrieveLevel)}`,
          (m) => { if (m.dataset) matches.push(decodeIdentifier(m.dataset, ts)); }));
        const status = toStatus(final);
        if (status.kind === 'failure') this.refusedIfUnauthorized(status, 'C-FIND');
        out.push({ matches, status });
      }
      return out;
    });
  }

  async findOne(identifier: Identifier): Promise<Identifier[]> {
    const [r] = await this.find([identifier]);
    if (r.status.kind === 'failure') {
      throw new DfaError('DICOM_OPERATION_FAILED', `C-FIND at ${this.who()} failed: ${r.status.text}${r.status.errorComment ? ` (${r.status.errorComment})` : ''}`, { details: { status: r.status.status } });
    }
    return r.matches;
  }

  /**
   * C-GET of a study or series; every instance goes to `onInstance` (which stores it and returns a
   * status). With `transientDatasets`, `onInstance` promises to keep no reference to `dataset` once
   * its promise settles, and that memory receives the next instance.
   */
  async get(req: { studyInstanceUid: string; seriesInstanceUid?: string; level?: QueryLevel }, onInstance: InstanceHandler, opts: { transientDatasets?: boolean } = {}): Promise<RetrieveOutcome> {
    return this.withAssociation([STUDY_ROOT_GET], async (a) => {
      const id = this.contextOrThrow(a, STUDY_ROOT_GET, 'C-GET');
      a.reuseDatasets = opts.transientDatasets === true;
      const ts = a.contexts.get(id)?.transferSyntax ?? TS.IMPLICIT_LE;
      a.onRequest = async (m, assoc) => storeResponder(m, assoc, onInstance);
      const final = await this.qr('C-GET', () => a.request(id, { commandField: CMD.C_GET_RQ, affectedSopClassUid: STUDY_ROOT_GET, priority: 0, hasDataset: true },
        encodeIdentifier(retrieveIdentifier(req.studyInstanceUid, req.seriesInstanceUid), ts), 'C-GET'));
      const outcome = { ...toStatus(final), ...subOps(final) };
      if (outcome.kind === 'failure') this.refusedIfUnauthorized(outcome, 'C-GET');
      return outcome;
    }, true);
  }

  /** C-MOVE of a study or series to `destinationAet` (which the PACS must know: PS3.4 C.4.2.2). */
  async move(req: { studyInstanceUid: string; seriesInstanceUid?: string }, destinationAet: string, opts: { messageId?: number } = {}): Promise<RetrieveOutcome> {
    return this.withAssociation([STUDY_ROOT_MOVE], async (a) => {
      const id = this.contextOrThrow(a, STUDY_ROOT_MOVE, 'C-MOVE');
      const ts = a.contexts.get(id)?.transferSyntax ?? TS.IMPLICIT_LE;
      const final = await this.qr('C-MOVE', () => a.request(id, { commandField: CMD.C_MOVE_RQ, affectedSopClassUid: STUDY_ROOT_MOVE, priority: 0, moveDestination: destinationAet, hasDataset: true,
        ...(opts.messageId !== undefined ? { messageId: opts.messageId } : {}) },
        encodeIdentifier(retrieveIdentifier(req.studyInstanceUid, req.seriesInstanceUid), ts), 'C-MOVE'));
      const outcome = { ...toStatus(final), ...subOps(final) };
      if (outcome.status === 0xa801) {
        const where = this.peer.ourScp ? `${this.peer.ourScp.host}:${this.peer.ourScp.port}` : '<our host>:<DFA_SCP_PORT>';
        throw new DfaError('DICOM_AE_NOT_ALLOWED',
          `${this.who()} does not know C-MOVE destination '${destinationAet}' (status 0xA801 Move destination unknown): add AE '${destinationAet}' with host/port ${where} to the PACS's modality list (on Orthanc: DicomModalities), or use C-GET / WADO-RS`,
          { details: { status: outcome.status, destinationAet, calledAet: this.peer.calledAet } });
      }
      if (outcome.kind === 'failure') this.refusedIfUnauthorized(outcome, 'C-MOVE');
      return outcome;
    });
  }

  /**
   * C-STORE files on one association; statuses per file as values (never throws for a DIMSE failure).
   * Only each file's head is read up front (SOP class and transfer syntax for the presentation
   * contexts); the file itself is read when it is sent, so a study is never in memory at once.
   */
  async store(files: readonly string[], opts: StoreOptions = {}): Promise<StoreResult[]> {
    const parsed: StoreItem[] = [];
    for (const f of files) {
      const h = await readPart10Head(f);
      parsed.push({ file: f, sopClassUid: h.sopClassUid, sopInstanceUid: h.sopInstanceUid, transferSyntax: h.transferSyntax, load: async () => (h.complete ? h : await readPart10(f)) });
    }
    return this.storeItems(parsed, opts);
  }

  /**
   * C-STORE items whose SOP class and transfer syntax are known up front; each file is loaded only
   * when it is sent, so a large study never sits in memory at once.
   */
  async storeItems(items: readonly StoreItem[], opts: StoreOptions = {}): Promise<StoreResult[]> {
    if (items.length === 0) return [];
    const combos = new Map<string, { abstractSyntax: string; transferSyntaxes: string[] }>();
    for (const it of items) combos.set(`${it.sopClassUid}|${it.transferSyntax}`, { abstractSyntax: it.sopClassUid, transferSyntaxes: [it.transferSyntax] });
    return this.withAssociation([], async (a) => {
      const out: StoreResult[] = [];
      for (const it of items) {
        const ctx = a.contextFor(it.sopClassUid, it.transferSyntax);
        let r: StoreResult;
        if (!ctx) {
          r = { file: it.file, sopInstanceUid: it.sopInstanceUid, status: { status: 0x0122, kind: 'failure', text: `Refused: ${this.peer.calledAet} accepted no presentation context for SOP class ${it.sopClassUid} in transfer syntax ${it.transferSyntax}` } };
        } else {
          const p10 = await it.load();
          const rsp = await a.request(ctx.id, {
            commandField: CMD.C_STORE_RQ, affectedSopClassUid: it.sopClassUid, affectedSopInstanceUid: it.sopInstanceUid, priority: 0, hasDataset: true,
            ...(opts.moveOriginator ? { moveOriginatorAet: opts.moveOriginator.aet, moveOriginatorMessageId: opts.moveOriginator.messageId } : {}),
          }, p10.dataset, 'C-STORE');
          r = { file: it.file, sopInstanceUid: it.sopInstanceUid, status: toStatus(rsp) };
        }
        out.push(r);
        opts.onResult?.(r);
      }
      return out;
    }, false, [...combos.values()]);
  }

  /** Refusals that mean "your AE may not do this" become actionable errors. */
  private refusedIfUnauthorized(s: DimseStatus, what: string): void {
    if (s.status === 0x0124 || s.status === 0xa700 || s.status === 0x0122) {
      throw new DfaError('DICOM_AE_NOT_ALLOWED', `${this.who()} refused ${what} from calling AE '${this.peer.callingAet}' (${s.text}${s.errorComment ? `: ${s.errorComment}` : ''}): ${registerHint(this.peer)} and allow ${what}`,
        { details: { status: s.status, calledAet: this.peer.calledAet, callingAet: this.peer.callingAet } });
    }
  }
}

/** Answer a C-STORE request that arrived on an association (C-GET sub-operation or push). */
export async function storeResponder(m: DimseMessage, a: Association, onInstance: InstanceHandler): Promise<void> {
  const c = m.command;
  if (c.commandField !== CMD.C_STORE_RQ) {
    a.send(m.contextId, { commandField: c.commandField | 0x8000, messageIdBeingRespondedTo: c.messageId, affectedSopClassUid: c.affectedSopClassUid, status: 0x0211, hasDataset: false });
    return;
  }
  const ctx = a.contexts.get(m.contextId);
  let status: number;
  try {
    status = await onInstance({
      callingAet: a.callingAet,
      sopClassUid: c.affectedSopClassUid ?? ctx?.abstractSyntax ?? '',
      sopInstanceUid: c.affectedSopInstanceUid ?? '',
      transferSyntax: ctx?.transferSyntax ?? TS.IMPLICIT_LE,
      dataset: m.dataset ?? Buffer.alloc(0),
      ...(c.moveOriginatorAet ? { moveOriginatorAet: c.moveOriginatorAet } : {}),
      ...(c.moveOriginatorMessageId !== undefined ? { moveOriginatorMessageId: c.moveOriginatorMessageId } : {}),
    });
  } catch {
    status = 0xa700; // PS3.4 B.2.3: out of resources (we could not write it)
  }
  if (a.isOpen) {
    a.send(m.contextId, { commandField: CMD.C_STORE_RSP, messageIdBeingRespondedTo: c.messageId, affectedSopClassUid: c.affectedSopClassUid, affectedSopInstanceUid: c.affectedSopInstanceUid, status, hasDataset: false });
  }
}
