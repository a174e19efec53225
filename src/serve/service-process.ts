import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DfaError } from '../core/errors.ts';

/** `bin/dfa.js` of this checkout: every process of a topology runs the same CLI as `npx dfa`. */
export const DFA_BIN = fileURLToPath(new URL('../../bin/dfa.js', import.meta.url));

export interface DfaProcessSpec {
  /** What the topology calls it (ml-1, storage, worker-0…): log prefixes and errors. */
  readonly name: string;
  /** `dfa` arguments, e.g. ['service', 'ml', '--port', '8091']. */
  readonly args: readonly string[];
  /** The process's DFA_* settings: the caller's own DFA_* variables are not inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** Flags for node itself (e.g. --single-threaded). */
  readonly nodeArgs?: readonly string[];
  /** An HTTP service: its base URL, polled at /ready until it answers 200. */
  readonly url?: string;
}

export interface DfaProcess {
  readonly name: string;
  readonly url?: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (with its code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last ~16 kB of its stdout + stderr (for a failing test or a demo that went wrong). */
  output(): string;
  /** Every line it printed so far that matches, as it arrives: resolves on the first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Sends a signal (SIGTERM: stop cleanly; SIGKILL: a crash) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const KEEP = 16_384;

/** Starts `dfa <args>` under this Node as its own OS process. */
export function spawnDfaProcess(spec: DfaProcessSpec): DfaProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DFA_')));
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), DFA_BIN, ...spec.args], { env: { ...clean, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new DfaError('SERVICE_UNAVAILABLE', `${spec.name}: could not start ${process.execPath}`);
  let text = '';
  const watchers = new Set<(chunk: string) => void>();
  const onData = (d: Buffer) => {
    const s = d.toString();
    text = (text + s).slice(-KEEP);
    for (const w of watchers) w(s);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    name: spec.name,
    url: spec.url,
    child,
    pid: child.pid,
    exited,
    output: () => text,
    waitFor(pattern, timeoutMs) {
      const already = text.split('\n').find((l) => pattern.test(l));
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        let line = '';
        const done = (f: () => void) => {
          clearTimeout(timer);
          watchers.delete(watch);
          f();
        };
        const watch = (chunk: string) => {
          const lines = (line + chunk).split('\n');
          line = lines.pop() ?? '';
          const hit = lines.find((l) => pattern.test(l));
          if (hit !== undefined) done(() => resolve(hit));
        };
        const timer = setTimeout(() => done(() => reject(new DfaError('SERVICE_UNAVAILABLE', `${spec.name}: no line matching ${pattern} within ${timeoutMs} ms`))), timeoutMs);
        watchers.add(watch);
        void exited.then(() => done(() => reject(new DfaError('SERVICE_UNAVAILABLE', `${spec.name} exited before printing ${pattern}`))));
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Waits until the service answers GET /ready with 200 (its upstreams answer too), or fails with
 * what it printed when it exits first or the time runs out.
 */
export async function waitReady(p: DfaProcess, o: { timeoutMs: number; headers?: Record<string, string> }): Promise<void> {
  if (!p.url) return;
  const until = Date.now() + o.timeoutMs;
  let last = 'no answer yet';
  let gone = false;
  void p.exited.then(() => (gone = true));
  while (Date.now() < until) {
    if (gone) break;
    try {
      const r = await fetch(`${p.url}/ready`, { headers: o.headers, signal: AbortSignal.timeout(5000) });
      if (r.ok) return;
      last = `HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DfaError('SERVICE_UNAVAILABLE', `${p.name} at ${p.url} is not ready (${gone ? 'it exited' : `after ${o.timeoutMs} ms`}; last: ${last})\n${p.output().slice(-3000)}`);
}
