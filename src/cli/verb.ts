import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';

/** What every CLI verb gets. Output goes through `out` (stdout) so tests can capture it. */
export interface VerbContext {
  readonly config: Config;
  readonly log: Logger;
  readonly out: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * One file per verb under src/cli/verbs/<name>.ts, exporting `verb`.
 * Exit codes (DESIGN.md): 0 all good, 1 some job failed, 2 bad goal / config / unreachable service.
 */
export interface Verb {
  readonly summary: string;
  /** Usage lines, shown by `dfa help <verb>`; each a copy-paste example. */
  readonly usage: readonly string[];
  /** Its flags, one help line each ("--out <dir>  where to write"): `--help` lists them; others are refused (exit 2). */
  readonly flags?: readonly string[];
  run(args: readonly string[], ctx: VerbContext): Promise<number>;
}
