import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { exitCodeFor, isDfaError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
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

async function help(out: (s: string) => void, name?: string): Promise<number> {
  if (name) {
    const v = await loadVerb(name);
    if (!v) return usageError(`unknown verb '${name}'`);
    out(`dfa ${name} — ${v.summary}`);
    for (const u of v.usage) out(`  ${u}`);
    return 0;
  }
  out('usage: dfa <verb> [args]   (dfa help <verb> for examples)');
  for (const n of await verbNames()) {
    const v = await loadVerb(n);
    if (v) out(`  ${n.padEnd(10)} ${v.summary}`);
  }
  return 0;
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
  const verb = await loadVerb(name);
  if (!verb) return usageError(`unknown verb '${name}' (try: dfa help)`);
  try {
    const env = ctxOverride.env ?? process.env;
    const config = ctxOverride.config ?? loadConfig(env);
    const log = ctxOverride.log ?? createLogger({ level: config.DFA_LOG_LEVEL, format: config.DFA_LOG_FORMAT });
    return await verb.run(rest, { config, log, out, env });
  } catch (e) {
    // One place maps errors to exit codes, with a one-line reason on stderr.
    const msg = isDfaError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`dfa ${name}: ${msg}\n`);
    return exitCodeFor(e);
  }
}
