import type { BaseCheckpointSaver, RetryPolicy } from '@langchain/langgraph';
import { END, isGraphBubbleUp, START, StateGraph } from '@langchain/langgraph';
import { toDfaError } from '../../core/errors.ts';
import type { JobNode, NodeContext } from './context.ts';
import { archiveResults } from './nodes/archive.ts';
import { checkPatient } from './nodes/check-patient.ts';
import { complete, finish } from './nodes/finish.ts';
import { find } from './nodes/find.ts';
import { renderPreviewsStep } from './nodes/previews.ts';
import { recordFhir } from './nodes/record-fhir.ts';
import { retrieve } from './nodes/retrieve.ts';
import { reviewGate } from './nodes/review-gate.ts';
import { segment } from './nodes/segment.ts';
import { selectSeries } from './nodes/select-series.ts';
import { store, verifyStored } from './nodes/store.ts';
import { ensureTask } from './nodes/task.ts';
import { volume } from './nodes/volume.ts';
import { writeOutputs } from './nodes/write-outputs.ts';
import { waitingText, type OutageGuard, type Upstream } from './outage.ts';
import { DEFAULT_RETRY, isTransient, retryPolicies, type RetryTiming } from './retry.ts';
import { JobStateAnnotation, type JobState, type JobUpdate } from './state.ts';

/**
 * The steps in order, each with its retry policy kind (network steps retry with backoff) and the
 * upstreams it calls (an outage of one of them pauses the step instead of spending its retries).
 */
const FHIR: readonly Upstream[] = ['fhir'];
const PACS: readonly Upstream[] = ['pacs', 'dicomweb'];
const NONE: readonly Upstream[] = [];
// find reads the FHIR work list and then the study's series from the PACS (nodes/find.ts).
const FHIR_AND_PACS: readonly Upstream[] = [...FHIR, ...PACS];
export const STEPS = [
  ['find', find, 'network', FHIR_AND_PACS],
  ['ensureTask', ensureTask, 'network', FHIR],
  ['retrieve', retrieve, 'network', PACS],
  ['selectSeries', selectSeries, 'local', NONE],
  ['volume', volume, 'local', NONE],
  ['checkPatient', checkPatient, 'network', FHIR],
  ['segment', segment, 'local', NONE],
  ['writeOutputs', writeOutputs, 'local', NONE],
  ['renderPreviews', renderPreviewsStep, 'local', NONE],
  ['reviewGate', reviewGate, 'network', FHIR],
  ['store', store, 'network', PACS],
  ['verifyStored', verifyStored, 'network', PACS],
  ['recordFhir', recordFhir, 'network', FHIR],
  ['archive', archiveResults, 'network', NONE],
  ['complete', complete, 'network', FHIR],
] as const satisfies readonly (readonly [string, JobNode, 'network' | 'local', readonly Upstream[]])[];

export type StepName = (typeof STEPS)[number][0] | 'finish';

/**
 * Around every step: time it, record it in the audit table, and sort what it threw. A transient
 * fault is re-thrown so the node's RetryPolicy tries again; anything else ends the job as a value
 * (`outcome: failed` with the step and reason) and the graph routes to `finish`.
 * With an outage guard: a step whose upstream is down waits for it first (not a retry), and a
 * transient fault while its upstream does not answer a probe is an outage, not a retry.
 */
function guarded(name: string, node: JobNode, ctx: NodeContext, upstreams: readonly Upstream[]) {
  return async (state: JobState): Promise<JobUpdate> => {
    const t0 = performance.now();
    const outage = ctx.deps.outage;
    let firstOutage: number | undefined; // an upstream that flaps (down, up, down…) is waited for at most DFA_OUTAGE_WAIT per step
    for (;;) {
      if (outage && outage.open(upstreams).length > 0) {
        const gaveUp = await waitOut(name, state, ctx, outage, upstreams);
        if (gaveUp) return { outcome: { status: 'failed', step: name, reason: gaveUp }, timingsMs: { [name]: Math.round(performance.now() - t0) } };
      }
      try {
        const upd = await node(state, ctx);
        const ms = Math.round(performance.now() - t0);
        await recordProgress(name, { ...state, ...upd } as JobState, upd, ms, ctx);
        return { ...upd, timingsMs: { [name]: ms } };
      } catch (e) {
        // An interrupt (the review gate waiting for a person) is LangGraph's control flow, not a fault.
        if (isGraphBubbleUp(e)) throw e;
        const err = toDfaError(e);
        if (isTransient(e)) {
          const flapping = firstOutage !== undefined && outage !== undefined && Date.now() - firstOutage > outage.waitMs;
          if (outage && !flapping && (await outage.down(upstreams)).length > 0) {
            firstOutage ??= Date.now();
            continue; // wait at the top, then the step again
          }
          await ctx.audit?.event(state.jobKey, state.generation, 'retry', name, `${err.code}: ${err.message}`);
          ctx.deps.log.warn('step fault, will retry', { job: state.jobKey, step: name, code: err.code, error: err.message });
          throw e;
        }
        return {
          outcome: { status: 'failed', step: name, reason: `${err.code}: ${err.message}` },
          timingsMs: { [name]: Math.round(performance.now() - t0) },
        };
      }
    }
  };
}

/**
 * Wait until the step's upstreams answer. The job row and its events say "waiting for PACS since …"
 * meanwhile. Returns the failure reason when the outage outlasted DFA_OUTAGE_WAIT, else undefined.
 */
async function waitOut(step: string, state: JobState, ctx: NodeContext, outage: OutageGuard, upstreams: readonly Upstream[]): Promise<string | undefined> {
  const open = outage.open(upstreams);
  const text = open.map(waitingText).join('; ');
  const t0 = Date.now();
  ctx.deps.log.warn(`job ${text}`, { job: state.jobKey, step });
  await ctx.audit?.setWaiting(state.jobKey, state.generation, text);
  await ctx.audit?.event(state.jobKey, state.generation, 'waiting', step, text, { upstreams: open.map((o) => o.upstream), since: open[0]?.since.toISOString() });
  try {
    await outage.waitUp(upstreams);
  } catch (e) {
    const err = toDfaError(e);
    await ctx.audit?.setWaiting(state.jobKey, state.generation, null);
    return `${err.code}: ${err.message}`;
  }
  await ctx.audit?.setWaiting(state.jobKey, state.generation, null);
  await ctx.audit?.event(state.jobKey, state.generation, 'waited', step, `${text}: answers again after ${Math.round((Date.now() - t0) / 1000)} s`);
  ctx.deps.log.info('job resumes after the outage', { job: state.jobKey, step, waitedMs: Date.now() - t0 });
  return undefined;
}

async function recordProgress(step: string, s: JobState, upd: JobUpdate, ms: number, ctx: NodeContext): Promise<void> {
  const a = ctx.audit;
  if (!a) return;
  await a.progress(s.jobKey, s.generation, {
    step,
    timingMs: { step, ms },
    inputSeries: upd.series ? [upd.series.seriesInstanceUid] : undefined,
    model: upd.seg?.model,
    volumesMl: upd.seg ? { ...upd.seg.volumesMl } : undefined,
    outputSops: upd.stored ? [...upd.stored] : undefined,
    // The Task is ours too; recorded when made, and kept beside the results.
    fhirWritten: upd.fhir ? [...(s.task ? [{ reference: s.task }] : []), ...upd.fhir.written] : upd.task ? [{ reference: upd.task }] : undefined,
  });
  const o = upd.outcome;
  await a.event(s.jobKey, s.generation, o ? o.status : 'step', step, o?.reason, { ms });
}

export interface JobGraphOptions {
  readonly checkpointer: BaseCheckpointSaver;
  readonly retry?: RetryTiming;
}

export function buildJobGraph(ctx: NodeContext, opts: JobGraphOptions) {
  const policies = retryPolicies(opts.retry ?? DEFAULT_RETRY);
  const g = new StateGraph(JobStateAnnotation);
  const nodes = STEPS as readonly (readonly [string, JobNode, 'network' | 'local', readonly Upstream[]])[];
  for (const [name, node, kind, upstreams] of nodes) {
    const retryPolicy: RetryPolicy = policies[kind];
    g.addNode(name, guarded(name, node, ctx, upstreams), { retryPolicy });
  }
  g.addNode('finish', guarded('finish', finish, ctx, FHIR), { retryPolicy: policies.network });
  const edges = g as unknown as {
    addEdge(a: string, b: string): void;
    addConditionalEdges(a: string, f: (s: JobState) => string, ends: string[]): void;
  };
  edges.addEdge(START, nodes[0][0]);
  nodes.forEach(([name], i) => {
    const next = i + 1 < nodes.length ? nodes[i + 1][0] : 'finish';
    // An outcome set by a step (skipped / failed) goes straight to finish.
    edges.addConditionalEdges(name, (s) => (s.outcome && next !== 'finish' ? 'finish' : next), [next, 'finish']);
  });
  edges.addEdge('finish', END);
  return g.compile({ checkpointer: opts.checkpointer });
}

export type JobGraph = ReturnType<typeof buildJobGraph>;
