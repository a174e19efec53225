/**
 * C-FIND attribute matching (PS3.4 C.2.2.2): universal (empty), single value, wildcard (* ?),
 * list of UIDs (backslash-separated) and range matching for dates/times. Pure functions.
 */
export function matchesKey(value: string | undefined, key: string, isUid: boolean, isRange: boolean): boolean {
  if (key === '' || key === '*') return true; // universal matching
  const v = value ?? '';
  if (isUid) return key.split('\\').some((k) => k.trim() === v); // PS3.4 C.2.2.2.2 list of UID matching
  if (isRange && key.includes('-')) {
    const [from, to] = key.split('-');
    return (!from || v >= from) && (!to || v.slice(0, to.length) <= to);
  }
  if (key.includes('\\')) return key.split('\\').some((k) => matchesKey(value, k, false, isRange));
  if (/[*?]/.test(key)) {
    const re = new RegExp('^' + key.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
    return re.test(v);
  }
  return v === key;
}

const UID_KEYS = new Set(['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID']);
const RANGE_KEYS = new Set(['StudyDate', 'StudyTime', 'SeriesDate', 'PatientBirthDate']);

/** Does a record (keyword → value) match every matching key of the identifier's? */
export function matchesIdentifier(record: Readonly<Record<string, string | readonly string[] | undefined>>, keys: Readonly<Record<string, string>>): boolean {
  for (const [k, want] of Object.entries(keys)) {
    if (!(k in record)) continue; // keys we do not index match universally (PS3.4 C.2.2.2.3 allows that for optional keys)
    const have = record[k];
    const ok = Array.isArray(have)
      ? want === '' || have.some((h) => matchesKey(h, want, false, false))
      : matchesKey(have as string | undefined, want, UID_KEYS.has(k), RANGE_KEYS.has(k));
    if (!ok) return false;
  }
  return true;
}
