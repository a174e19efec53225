import { DfaError } from './errors.ts';

/**
 * What an artifact key may be, wherever it arrives from (the storage service's HTTP routes, the
 * remote adapter, an object store): '/'-separated relative segments of printable characters — no
 * empty, '.' or '..' segment, no leading '/', no backslash or control character — at most 1024
 * bytes (the S3 limit on an object key, UTF-8). A key never reaches outside the store's root.
 */
const MAX_KEY_BYTES = 1024;
// eslint-disable-next-line no-control-regex
const BAD_CHARS = /[\u0000-\u001f\u007f\\]/;

function problem(key: string, allowEmpty: boolean): string | undefined {
  if (key === '') return allowEmpty ? undefined : 'empty';
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (BAD_CHARS.test(key)) return 'a control character or backslash';
  if (key.startsWith('/') || /^[a-z]:/i.test(key)) return 'an absolute path';
  const segments = key.endsWith('/') ? key.slice(0, -1).split('/') : key.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return "an empty, '.' or '..' segment";
  return undefined;
}

/** The key itself, or DfaError ARTIFACT_KEY_INVALID (HTTP 400) saying why. */
export function checkArtifactKey(key: string): string {
  const why = problem(key, false);
  if (why) throw new DfaError('ARTIFACT_KEY_INVALID', `artifact key refused (${why}): ${JSON.stringify(key.slice(0, 200))}`);
  return key;
}

/** A prefix for list/remove: a key, or '' (everything) when `allowAll`. */
export function checkArtifactPrefix(prefix: string, allowAll: boolean): string {
  const why = problem(prefix, allowAll);
  if (why) throw new DfaError('ARTIFACT_KEY_INVALID', `artifact prefix refused (${why}): ${JSON.stringify(prefix.slice(0, 200))}`);
  return prefix;
}
