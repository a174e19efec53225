import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/**
 * A verb declares its flags once, as `FlagDecls` keyed by the long name without dashes. From that
 * one declaration come its `--help` lines (flagHelpLines), main.ts's refusal of unknown options
 * before the verb runs (unknownOption, exit 2 with the verb's usage) and the verb's own parser
 * (parseVerbArgs, node:util parseArgs in strict mode), so the three cannot drift apart.
 */
interface FlagCommon {
  /** What it does, after the name in `--help` ('' for none). */
  readonly help: string;
  /** A one-letter alias ('h' → -h); `--help` shows it as "(also -h)". */
  readonly short?: string;
}

/** A flag that takes a value: `--out <dir>`, `--out=<dir>`; `multiple`: repeatable, values in order. */
export interface StringFlag extends FlagCommon {
  readonly type: 'string';
  /** The placeholder `--help` shows between < and >: 'uid' → `--study <uid>`. */
  readonly value: string;
  readonly multiple?: boolean;
  /** When not given: a string, or (multiple) a list. */
  readonly default?: string | readonly string[];
}

/** A switch: true when given, else false. */
export interface BooleanFlag extends FlagCommon {
  readonly type: 'boolean';
}

export type FlagDecl = StringFlag | BooleanFlag;
export type FlagDecls = Readonly<Record<string, FlagDecl>>;

/** What parseVerbArgs gives for one flag: booleans are never undefined; a default makes a string (list) definite. */
type FlagValue<F> =
  F extends { readonly type: 'boolean' } ? boolean
  : F extends { readonly multiple: true } ? (F extends { readonly default: readonly string[] } ? string[] : string[] | undefined)
  : F extends { readonly default: string } ? string
  : string | undefined;

export type FlagValues<D extends FlagDecls> = { -readonly [K in keyof D]: FlagValue<D[K]> };

/** Keeps the literal types of a declaration (`type: 'string'`, `multiple: true`), which FlagValues reads. */
export function defineFlags<const D extends FlagDecls>(decls: D): D {
  return decls;
}

/** `--help`/`-h` itself, which main.ts handles for every verb. */
export const HELP_FLAG = { type: 'boolean', short: 'h', help: 'this help' } as const satisfies BooleanFlag;

/** Help text starts in this column (after two spaces) unless every name is shorter, and never further right than the cap. */
const LABEL_MIN = 17;
const LABEL_MAX = 21;

function label(name: string, d: FlagDecl): string {
  return `--${name}${d.type === 'string' ? ` <${d.value}>` : ''}`;
}

/** One help line per flag, in declaration order: `--name <value>   help`, help texts aligned. */
export function flagHelpLines(decls: FlagDecls): string[] {
  const entries = Object.entries(decls);
  const labels = entries.map(([name, d]) => label(name, d));
  const width = Math.min(Math.max(LABEL_MIN, ...labels.map((l) => l.length)), LABEL_MAX);
  return entries.map(([, d], i) => {
    const help = [d.help, d.short ? `(also -${d.short})` : ''].filter(Boolean).join(' ');
    return help ? `${labels[i]!.padEnd(width)}  ${help}` : labels[i]!;
  });
}

/** '--name' and '-x' → its declaration. */
function byOption(decls: FlagDecls): Map<string, FlagDecl> {
  const m = new Map<string, FlagDecl>();
  for (const [name, d] of Object.entries(decls)) {
    m.set(`--${name}`, d);
    if (d.short) m.set(`-${d.short}`, d);
  }
  return m;
}

/** A negative number ('-20', '-0.5') is a value or a positional, never an option. */
const NEGATIVE_NUMBER = /^-\.?\d/;

function isOptionLike(a: string): boolean {
  return a.startsWith('-') && a !== '-' && !NEGATIVE_NUMBER.test(a);
}

/** The first option in `args` that `decls` does not declare ('--' ends the options), or undefined. */
export function unknownOption(args: readonly string[], decls: FlagDecls): string | undefined {
  const known = byOption(decls);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return undefined;
    if (!isOptionLike(a)) continue;
    const d = known.get(a.split('=')[0]!);
    if (!d) return a;
    if (d.type === 'string' && !a.includes('=')) i++;
  }
  return undefined;
}

/** parseArgs's options from the declaration: booleans default to false. */
function parseArgsOptions(decls: FlagDecls): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const [name, d] of Object.entries(decls)) {
    const short = d.short ? { short: d.short } : {};
    if (d.type === 'boolean') options[name] = { type: 'boolean', default: false, ...short };
    else {
      const dflt = d.default === undefined ? {} : { default: typeof d.default === 'string' ? d.default : [...d.default] };
      options[name] = { type: 'string', ...(d.multiple ? { multiple: true } : {}), ...short, ...dflt };
    }
  }
  return options;
}

/**
 * parseArgs takes '-20' for options -2 -0. As unknownOption does, read a negative number after a
 * value flag as its value ('--center-z -20' → '--center-z=-20') and elsewhere as a positional
 * (swapped for a stand-in that parseArgs leaves alone, and back).
 */
function protectNegatives(args: readonly string[], decls: FlagDecls, allowPositionals: boolean) {
  const known = byOption(decls);
  const out: string[] = [];
  const stand = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (known.get(a)?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else if (allowPositionals && NEGATIVE_NUMBER.test(a)) {
      const s = `\u0000dfa-positional-${stand.size}`;
      stand.set(s, a);
      out.push(s);
    } else out.push(a);
  }
  return { args: out, restore: (p: string) => stand.get(p) ?? p };
}

/**
 * Parses a verb's arguments by its declaration (strict: unknown options, a missing value or
 * positionals where none are allowed throw ERR_PARSE_ARGS_*, which main.ts turns into exit 2 with
 * the usage). `--name value`, `--name=value`, `--` ends the options.
 */
export function parseVerbArgs<const D extends FlagDecls>(
  decls: D,
  args: readonly string[],
  opts: { readonly allowPositionals?: boolean } = {},
): { values: FlagValues<D>; positionals: string[] } {
  const allowPositionals = opts.allowPositionals ?? false;
  const prepared = protectNegatives(args, decls, allowPositionals);
  const { values, positionals } = parseArgs({ args: prepared.args, options: parseArgsOptions(decls), allowPositionals, strict: true });
  return { values: { ...values } as FlagValues<D>, positionals: positionals.map(prepared.restore) };
}
