/** Small helpers the end-to-end benchmark shares: medians, formatting, timing a child process. */
import type { ChildProcess } from 'node:child_process';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Seconds with 2 decimals; '—' for a missing figure. */
export function sec(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2);
}

/** Whole-number env knob with a default (BENCH_RUNS=5 …). */
export function envInt(name: string, dflt: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, not '${raw}'`);
  return n;
}

/**
 * Children the bench started, killed on exit — also when it fails or is interrupted — so no
 * Orthanc, PostgreSQL or `dfa worker` outlives it.
 */
const children = new Set<ChildProcess>();
export function track<T extends ChildProcess>(p: T): T {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}
export function killTracked(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill(signal);
}

/** Resolves when a child's stderr matches `re` (a readiness line), rejects if it exits first. */
export function waitForLine(p: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => done(new Error(`no line matching ${String(re)} within ${timeoutMs} ms: ${text.slice(-1000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      text = (text + d.toString()).slice(-8000);
      if (re.test(text)) done();
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${String(re)}: ${text.slice(-1000)}`));
    const done = (e?: Error) => {
      clearTimeout(timer);
      p.stderr?.off('data', onData);
      p.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    p.stderr?.on('data', onData);
    p.once('exit', onExit);
  });
}
