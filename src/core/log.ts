/**
 * Minimal structured logger: one line per event, JSON when DFA_LOG_FORMAT=json, text otherwise.
 * Secrets and patient identity never reach the sink: `redact` (redact.ts) masks credentials and PHI
 * by field name and by form, nested objects included; text lines neutralise control characters.
 * The sink is injected (stderr by default) so core stays free of I/O decisions.
 */
import { neutralise, redact, safeText } from './redact.ts';

export { redact } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'text';
  sink?: (line: string) => void;
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const format = opts.format ?? 'text';
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    // Every level gets the same redaction: debug logs get shipped too.
    const all = redact({ ...base, ...fields });
    const text = safeText(msg);
    if (format === 'json') {
      sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: text, ...all })); // JSON escapes controls
    } else {
      const kv = Object.entries(all)
        .map(([k, v]) => `${neutralise(k)}=${typeof v === 'string' ? neutralise(v) : JSON.stringify(v)}`)
        .join(' ');
      sink(`${lvl.toUpperCase().padEnd(5)} ${neutralise(text)}${kv ? ' ' + kv : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger({ ...opts, base: { ...base, ...f } }),
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ level, format: 'text', sink: (s) => lines.push(s) });
  return Object.assign(l, { lines });
}
