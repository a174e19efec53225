/**
 * Each verb lists its flags as help lines ("--out <dir>  where to write"); `<…>` after the name
 * means the flag takes a value. main.ts uses them for `dfa <verb> --help` and to refuse unknown
 * options (exit 2 with the verb's usage) before the verb runs, like the tools people already use.
 */
export interface FlagSpec {
  readonly name: string; // '--out'
  readonly takesValue: boolean;
}

export function parseFlagLine(line: string): FlagSpec {
  const m = /^\s*(--?[\w-]+)(?:[ =](<[^>]*>|\S+))?/.exec(line);
  return { name: m?.[1] ?? line.trim(), takesValue: !!m?.[2] && m[2].startsWith('<') };
}

/** The first option in `args` that `flags` does not list ('--' ends the options), or undefined. */
export function unknownOption(args: readonly string[], flags: readonly string[]): string | undefined {
  const specs = new Map(flags.map((f) => parseFlagLine(f)).map((s) => [s.name, s]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return undefined;
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) continue;
    const name = a.split('=')[0]!;
    const spec = specs.get(name);
    if (!spec) return a;
    if (spec.takesValue && !a.includes('=')) i++;
  }
  return undefined;
}

export const HELP_FLAG = '--help      this help (also -h)';
