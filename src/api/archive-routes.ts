import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DfaError } from '../core/errors.ts';
import { maskId } from '../core/redact.ts';
import type { ArchiveEntry, ArchiveQuery } from '../storage/archive-record.ts';

export interface ArchiveRouteDeps {
  readonly query: (q: ArchiveQuery) => Promise<ArchiveEntry[]>;
  /** May this caller see patient IDs at all (its role), and did it ask for them (`?phi=1`)? */
  readonly maySeePhi: (req: FastifyRequest) => boolean;
  readonly showPhi: (req: FastifyRequest, reply: { header: (k: string, v: string) => unknown }) => boolean;
}

export interface ArchiveListQuery {
  readonly study?: string;
  readonly patient?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly phi?: string;
}

/** An entry for API clients: the patient ID masked (***01) unless the caller may see it and asked. */
export function archiveView(e: ArchiveEntry, phi: boolean): ArchiveEntry {
  if (phi || !e.patientId) return e;
  const masked = maskId(e.patientId);
  return { ...e, patientId: masked, record: { ...e.record, patientId: masked } };
}

/**
 * GET /archive?study=&patient=&from=&to=&limit=: the results archive (src/storage/archive.ts),
 * newest first. GET needs the viewer role (guard.ts); searching by patient ID needs a role that may
 * see patient IDs (a viewer could otherwise learn which MRNs have results).
 */
export function registerArchiveRoutes(app: FastifyInstance, deps: ArchiveRouteDeps): void {
  app.get<{ Querystring: ArchiveListQuery }>('/archive', async (req, reply) => {
    const q = req.query;
    if (q.patient && !deps.maySeePhi(req)) throw new DfaError('API_FORBIDDEN', 'searching the archive by patient ID needs the operator or admin role');
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new DfaError('CONFIG_INVALID', "'limit' must be a whole number ≥ 1");
    const phi = deps.showPhi(req, reply);
    const found = await deps.query({ study: q.study, patient: q.patient, from: q.from, to: q.to, ...(limit ? { limit } : {}) });
    return found.map((e) => archiveView(e, phi));
  });
}
