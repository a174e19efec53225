import { toDfaError } from '../core/errors.ts';

/** One readiness answer per dependency, as GET /ready reports it. */
export type ReadinessReport = Record<string, { ok: boolean; detail?: string }>;

/**
 * Readiness from named probes (database `select 1`, PACS C-ECHO, FHIR GET /metadata), run side by
 * side, each cut short after `timeoutMs`: a hung dependency must make /ready answer "not ready"
 * quickly (a load balancer's probe has its own short timeout), not hang the probe.
 */
export function readinessFrom(probes: Readonly<Record<string, () => Promise<unknown>>>, timeoutMs: number): () => Promise<ReadinessReport> {
  return async () => {
    const entries = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          await Promise.race([probe(), timeout]);
          return [name, { ok: true }] as const;
        } catch (e) {
          return [name, { ok: false, detail: toDfaError(e).message }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return Object.fromEntries(entries);
  };
}
