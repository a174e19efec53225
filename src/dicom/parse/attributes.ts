import type { NaturalDataset } from './dcmjs.ts';

/**
 * Typed reads from a naturalized dataset. dcmjs gives a scalar for VM 1 and an array otherwise, and
 * numbers for IS/DS (a string when the value was not a number); these helpers absorb that.
 */
function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

export function str(ds: NaturalDataset, key: string): string | undefined {
  const v = first(ds[key]);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function strs(ds: NaturalDataset, key: string): string[] {
  const v = ds[key];
  const arr = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return arr.filter((x): x is string | number => typeof x === 'string' || typeof x === 'number').map((x) => String(x).trim());
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function num(ds: NaturalDataset, key: string): number | undefined {
  return toNumber(first(ds[key]));
}

/** All values as numbers; undefined if absent or any value is not a number. */
export function nums(ds: NaturalDataset, key: string): number[] | undefined {
  const v = ds[key];
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : [v];
  const out = arr.map(toNumber);
  return out.some((x) => x === undefined) || out.length === 0 ? undefined : (out as number[]);
}

export function vec3(ds: NaturalDataset, key: string): [number, number, number] | undefined {
  const v = nums(ds, key);
  return v && v.length === 3 ? [v[0], v[1], v[2]] : undefined;
}

/** PN: dcmjs gives [{ Alphabetic: 'Doe^John' }] (or a plain string from older writers). */
export function personName(ds: NaturalDataset, key: string): string | undefined {
  const v = first(ds[key]);
  if (typeof v === 'string') return v.trim() || undefined;
  if (v && typeof v === 'object' && 'Alphabetic' in v) {
    const a = (v as { Alphabetic?: unknown }).Alphabetic;
    return typeof a === 'string' ? a.trim() || undefined : undefined;
  }
  return undefined;
}

/** First item of a sequence attribute, if present. */
export function item(ds: NaturalDataset | undefined, key: string): NaturalDataset | undefined {
  if (!ds) return undefined;
  const v = ds[key];
  const it = Array.isArray(v) ? v[0] : v;
  return it && typeof it === 'object' && !ArrayBuffer.isView(it) && !(it instanceof ArrayBuffer) ? (it as NaturalDataset) : undefined;
}

export function items(ds: NaturalDataset | undefined, key: string): NaturalDataset[] {
  if (!ds) return [];
  const v = ds[key];
  const arr = Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : [];
  return arr.filter((x): x is NaturalDataset => !!x && typeof x === 'object' && !ArrayBuffer.isView(x) && !(x instanceof ArrayBuffer));
}
