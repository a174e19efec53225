/**
 * What may not leave the process in a log line or a written URL (issue 10 §6): credentials
 * (passwords, tokens, keys — by field name, in URLs' user-info and in secret query parameters) and
 * patient identity (names, PatientID/MRN, birth dates — by field name, DICOM person names by their
 * `^` form, and identifiers a goal text names). Pure functions; the logger applies them to every
 * field, nested objects and arrays included, and to the message itself.
 */
const SECRET_KEY = /pass(word)?|secret|token|authorization|private.?key|assertion|cookie|api.?key|access.?key/i;
// DICOM keywords (PS3.6: PatientName, PatientID, PatientBirthDate, OtherPatientIDs…) and our own field names.
const PHI_NAME_KEY = /^(patient_?name|other_?patient_?names|patient_?mother_?birth_?name|responsible_?person|name_?of_?physicians?)$/i;
const PHI_ID_KEY = /^(patient(_?id)?|other_?patient_?ids|mrn|patient_?identifier|subject)$/i;
const PHI_DATE_KEY = /^(patient_?)?birth_?date$|^dob$/i;
const SECRET_PARAM = /([?&](?:access_token|id_token|token|password|pass|secret|client_secret|code|api_key|apikey|key)=)[^&#\s]*/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s?#@]*@/gi;
// A DICOM person name (PS3.5 6.2 PN): family^given[^middle^prefix^suffix]; '=' separates representations.
const PERSON_NAME = /[\p{L}'.-]*\p{L}[\p{L}'.-]*(?:\^[\p{L}'.=-]*)+/gu;
// "patient 12345", "MRN: AB-77", "patient id #X1" — the identifier a goal or a message names.
const NAMED_PATIENT = /\b(patient(?:\s+(?:id|mrn|number|no\.?))?|mrn)(\s*[:#]?\s*)((?:patient\/)?[\p{L}\p{N}][\w./-]*)/giu;
// C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: a peer's text cannot forge a log line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** '***' plus the last two characters of an identifier long enough to keep them (a masked MRN). */
export function maskId(v: unknown): string {
  const s = String(v ?? '').trim();
  return s.length >= 6 ? `***${s.slice(-2)}` : '***';
}

/** Removes user-info (user:password@) and secret query parameters from every URL in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1').replace(SECRET_PARAM, '$1***');
}

/** Masks patient identity a free text may carry: DICOM person names, identifiers after "patient"/"MRN". */
export function maskPatientText(text: string): string {
  return text.replace(PERSON_NAME, '***').replace(NAMED_PATIENT, (_m, word: string, sep: string, id: string) => `${word}${sep}${maskId(id)}`);
}

/** Control characters become visible escapes (\n, \r, \x1b…), so a value stays on one line. */
export function neutralise(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A free text as it may appear in a log: no credentials in URLs, no patient identity. */
export const safeText = (text: string): string => maskPatientText(stripUrlCredentials(text));

function redactValue(key: string, v: unknown, depth: number): unknown {
  if (v === undefined || v === null || v === '') return v;
  if (SECRET_KEY.test(key)) return '***';
  if (PHI_NAME_KEY.test(key) || PHI_DATE_KEY.test(key)) return '***';
  if (PHI_ID_KEY.test(key) && (typeof v === 'string' || typeof v === 'number')) return maskId(v);
  if (typeof v === 'string') return safeText(v); // goal texts, error messages, URLs
  if (typeof v !== 'object') return v;
  if (depth >= 8) return '[nested too deep]';
  if (v instanceof Date) return v;
  if (v instanceof Error) return safeText(v.message);
  if (Array.isArray(v)) return v.map((x) => redactValue(key, x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = redactValue(k, x, depth + 1);
  return out;
}

/** Redacts log fields: secrets by key, patient identity by key and by form, at any depth. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = redactValue(k, v, 0);
  return out;
}
