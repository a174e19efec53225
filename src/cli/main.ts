import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig, unknownConfigKeys } from '../core/config.ts';
import { DfaError, exitCodeFor, isDfaError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { HELP_FLAG, flagHelpLines, unknownOption } from './flags.ts';
import type { Verb, VerbContext } from './verb.ts';

const VERBS_DIR = fileURLToPath(new URL('./verbs/', import.meta.url));

async function verbNames(): Promise<string[]> {
  const files = await readdir(VERBS_DIR);
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadVerb(name: string): Promise<Verb | undefined> {
  if (!(await verbNames()).includes(name)) return undefined;
  const mod = (await import(new URL(`./verbs/${name}.ts`, import.meta.url).href)) as { verb: Verb };
  return mod.verb;
}

function verbHelp(out: (s: string) => void, name: string, v: Verb): void {
  out(`dfa ${name} — ${v.summary}`);
  out('examples:');
  for (const u of v.usage) out(`  ${u}`);
  out('flags:');
  for (const f of flagHelpLines({ ...v.flags, help: HELP_FLAG })) out(`  ${f}`);
}

async function help(out: (s: string) => void, name?: string): Promise<number> {
  if (name) {
    const v = await loadVerb(name);
    if (!v) return usageError(`unknown verb '${name}'`);
    verbHelp(out, name, v);
    return 0;
  }
  out('usage: dfa <verb> [args]   (dfa <verb> --help for its flags and examples; dfa --version)');
  for (const n of await verbNames()) {
    const v = await loadVerb(n);
    if (v) out(`  ${n.padEnd(10)} ${v.summary}`);
  }
  return 0;
}

/** The version from package.json (`dfa --version`). */
async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A file or folder that is not there is the user's input, not a crash: typed, exit 2. */
function asInputError(e: unknown): unknown {
  const sys = e as NodeJS.ErrnoException;
  if (!isDfaError(e) && (sys?.code === 'ENOENT' || sys?.code === 'ENOTDIR' || sys?.code === 'EISDIR')) {
    return new DfaError('FILE_NOT_FOUND', `${sys.code === 'EISDIR' ? 'a folder where a file is needed' : 'no such file or folder'}: ${sys.path ?? sys.message}`, { cause: e });
  }
  return e;
}

function usageError(msg: string): number {
  process.stderr.write(`dfa: ${msg}\n`);
  return 2;
}

/** Runs one CLI invocation; returns the exit code. `ctxOverride` lets tests capture output. */
export async function main(argv: readonly string[], ctxOverride: Partial<VerbContext> = {}): Promise<number> {
  const out = ctxOverride.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') return help(out, name === 'help' ? rest[0] : undefined);
  if (name === '--version' || name === '-V' || name === 'version') {
    out(`dfa ${await version()} (Node ${process.version})`);
    return 0;
  }
  const verb = await loadVerb(name);
  if (!verb) return usageError(`unknown verb '${name}' (try: dfa help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    verbHelp(out, name, verb);
    return 0;
  }
  const unknown = unknownOption(rest, verb.flags ?? {});
  if (unknown !== undefined) {
    process.stderr.write(`dfa ${name}: unknown option '${unknown}'\n`);
    verbHelp((s) => process.stderr.write(s + '\n'), name, verb);
    return 2;
  }
  try {
    const env = ctxOverride.env ?? process.env;
    // A misspelt DFA_* variable would be silently ignored: say which known one it looks like.
    for (const u of unknownConfigKeys(env)) process.stderr.write(`dfa: warning: unknown setting ${u.key}${u.nearest ? ` (did you mean ${u.nearest}?)` : ''}\n`);
    const config = ctxOverride.config ?? loadConfig(env);
    const log = ctxOverride.log ?? createLogger({ level: config.DFA_LOG_LEVEL, format: config.DFA_LOG_FORMAT });
    return await verb.run(rest, { config, log, out, env });
  } catch (caught) {
    const e = asInputError(caught);
    if ((e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`dfa ${name}: ${(e as Error).message}\n`);
      verbHelp((s) => process.stderr.write(s + '\n'), name, verb);
      return 2;
    }
    // One place maps errors to exit codes, with a one-line reason on stderr.
    const msg = isDfaError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`dfa ${name}: ${msg}\n`);
    return exitCodeFor(e);
  }
}
