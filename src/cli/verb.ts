import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { FlagDecls } from './flags.ts';

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
  /**
   * Its flags, declared once (src/cli/flags.ts): `--help` lists them, main.ts refuses others (exit 2)
   * and `run` parses `args` with the same declaration (parseVerbArgs).
   */
  readonly flags?: FlagDecls;
  run(args: readonly string[], ctx: VerbContext): Promise<number>;
}
