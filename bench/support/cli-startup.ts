/**
 * The CLI's own start-up cost, apart from any work: wall time of the real `dfa` process (Node 24
 * start, TypeScript type stripping, module graph) for a no-op verb vs. a run on an empty worklist
 * with everything embedded (PGlite database, embedded FHIR server, embedded PACS), first start
 * (fresh DFA_DATA_DIR: initdb, FHIR definitions) and warm start (the same data dir again).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOAL, spawnDfa } from '../../test/e2e/world.ts';
import { freePort } from '../../test/support/ports.ts';
import { median, track } from './bench-stats.ts';

export interface StartupRow {
  readonly label: string;
  readonly what: string;
  readonly medianS: number;
  readonly runs: readonly number[];
}

async function timeDfa(args: readonly string[], dataDir: string): Promise<number> {
  const env = { DFA_DATA_DIR: dataDir, DFA_SCP_PORT: String(await freePort()), DFA_LOG_LEVEL: 'warn' };
  const t0 = performance.now();
  const child = track(spawnDfa(args, env));
  const out = await child.output;
  const s = (performance.now() - t0) / 1000;
  // `dfa run` on an empty worklist: nothing failed ⇒ exit 0.
  if (out.code !== 0) throw new Error(`dfa ${args.join(' ')} exited ${out.code}: ${out.stderr.slice(-1500)}`);
  return s;
}

export async function measureStartup(runs: number, log: (s: string) => void): Promise<StartupRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'dfa-bench-cli-'));
  try {
    const cases: { label: string; what: string; args: readonly string[]; warm: boolean }[] = [
      { label: '`dfa help`', what: 'no-op: Node start + CLI module graph', args: ['help'], warm: false },
      { label: '`dfa run --dry-run`, first start', what: 'fresh DFA_DATA_DIR: embedded FHIR + PACS (dry run opens no database)', args: ['run', '--dry-run', GOAL], warm: false },
      { label: '`dfa run --dry-run`, warm', what: 'same DFA_DATA_DIR again', args: ['run', '--dry-run', GOAL], warm: true },
      { label: '`dfa run`, first start', what: 'fresh DFA_DATA_DIR: PGlite initdb + migrations + pg-boss, embedded FHIR + PACS, empty worklist', args: ['run', GOAL], warm: false },
      { label: '`dfa run`, warm', what: 'same DFA_DATA_DIR again', args: ['run', GOAL], warm: true },
    ];
    const rows: StartupRow[] = [];
    let n = 0;
    for (const c of cases) {
      const times: number[] = [];
      const warmDir = join(scratch, `warm-${n++}`);
      if (c.warm) await timeDfa(c.args, warmDir); // the first start that makes the dir warm; not counted
      for (let r = 0; r < runs; r++) {
        const dir = c.warm ? warmDir : join(scratch, `fresh-${n}-${r}`);
        times.push(await timeDfa(c.args, dir));
        if (!c.warm) await rm(dir, { recursive: true, force: true });
      }
      log(`bench: ${c.label}: ${times.map((t) => t.toFixed(2)).join(', ')} s`);
      rows.push({ label: c.label, what: c.what, medianS: median(times), runs: times });
    }
    return rows;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
