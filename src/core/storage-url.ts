/**
 * DFA_STORAGE_URL, parsed (pure): where artifacts and the results archive live.
 * - unset, a path, or `file:` / `file:///abs/path` → local disk (unset: DFA_DATA_DIR/artifacts);
 * - `s3://bucket/prefix` → S3-compatible object storage; the prefix is optional.
 */
export type StorageLocation =
  | { readonly kind: 'local'; readonly root?: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

// S3 bucket naming rules (AWS "Bucket naming rules"): 3–63 of a-z 0-9 . -, starting and ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The location, or a sentence saying what is wrong (for CONFIG_INVALID). */
export function parseStorageUrl(url: string | undefined): StorageLocation | string {
  if (url === undefined || url === '' || url === 'file:') return { kind: 'local' };
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const cut = rest.indexOf('/');
    const bucket = cut < 0 ? rest : rest.slice(0, cut);
    const prefix = (cut < 0 ? '' : rest.slice(cut + 1)).replace(/^\/+|\/+$/g, '');
    if (!BUCKET.test(bucket)) return `'${bucket}' is not an S3 bucket name (3–63 of a-z, 0-9, '.', '-')`;
    if (prefix.split('/').some((s) => s === '.' || s === '..') || /[\\?#]/.test(prefix)) return `the key prefix '${prefix}' may not contain '.', '..', '\\', '?' or '#' segments`;
    return { kind: 's3', bucket, prefix };
  }
  if (url.startsWith('file://')) return { kind: 'local', root: decodeURIComponent(url.slice('file://'.length)) };
  if (url.startsWith('file:')) return { kind: 'local', root: url.slice('file:'.length) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return `only s3:// and file: URLs or a directory path are supported, not '${url.split(':')[0]}:'`;
  return { kind: 'local', root: url };
}
