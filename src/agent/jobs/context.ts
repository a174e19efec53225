import type { ResultsArchive } from '../../storage/archive.ts';
import type { AuditStore } from '../../storage/audit.ts';
import type { JobDeps } from './deps.ts';
import type { JobState, JobUpdate } from './state.ts';

/** What every node gets besides the state. */
export interface NodeContext {
  readonly deps: JobDeps;
  readonly audit?: AuditStore;
  /** The results archive; absent (some tests) ⇒ the archive step does nothing. */
  readonly archive?: ResultsArchive;
}

/** A step: a small function from the state to a partial update (LangGraph node). */
export type JobNode = (state: JobState, ctx: NodeContext) => Promise<JobUpdate>;

/** Artifact key prefix of one job generation, e.g. `jobs/<plan>_<study>/g1`. */
export function jobPrefix(state: Pick<JobState, 'jobKey' | 'generation'>): string {
  return `jobs/${state.jobKey.replace(/[^A-Za-z0-9._-]/g, '_')}/g${state.generation}`;
}

/** The state field a node needs, or a fault (a graph wiring bug, never an input problem). */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`job state is missing '${what}'`);
  return v;
}
