import type { Plan } from '../plan.ts';
import { parseDateRange } from './dates.ts';
import type { GoalReader } from './reader.ts';
import * as W from './vocabulary.ts';

/**
 * The selection half of a goal: who (patients by MRN or name, exclusions), which studies (UIDs,
 * accession numbers, dates, body part / description words) and how many (counts with an order).
 * Each recogniser takes its words from the reader, so the rest of the planner can account for
 * every word. Restrictions only ever narrow: nothing here adds studies to a selection.
 */
export type Selection = Plan['selection'];
export type SelectionParts = Omit<Selection, 'status' | 'modality'>;

export interface SelectionRead {
  readonly selection: SelectionParts;
  readonly understood: string[];
  readonly problems: string[];
}

// An identifier (MRN, accession): letters, digits and dashes, with at least one digit.
const ID = String.raw`(?:patient\/[a-z0-9.-]+|(?=[\w-]*\d)[a-z0-9][\w-]*)`;
const ID_LIST = String.raw`(${ID}(?:\s*(?:,|\band\b|\bor\b|&)\s*${ID})*)`;
const PATIENT_WORDS = String.raw`(?:patients?|mrns?)(?:\s+(?:ids?|mrns?|numbers?|no\.?))?\s*[:#]?\s*`;
const ACCESSION_WORDS = String.raw`(?:accession(?:\s+(?:numbers?|no\.?|#))?s?|acc\.?\s*#?)\s*[:#]?\s*`;
const EXCEPT = String.raw`\b(?:except(?:\s+for)?|excluding|exclude|but\s+not|not\s+for|not|other\s+than|apart\s+from|skip(?:ping)?|leave\s+out|leaving\s+out|without)\s+(?:the\s+)?`;
// A name word: capitalised, and not one of our own upper-case words ("SEG", "CT"...).
const NAME_WORD = String.raw`(?!(?:ID|MRN|SEG|SEGs|RTSTRUCT|RTSS|CT|CTs|MR|MRI|PET|PACS|FHIR|ONNX|DICOM|STOW|U-Net|UNet)\b)[A-Z][A-Za-z'-]*[A-Za-z]`;
const NAME = String.raw`([A-Za-z][A-Za-z'-]*(?:\^[A-Za-z'-]*)+|${NAME_WORD},\s?${NAME_WORD}|${NAME_WORD}(?:\s+${NAME_WORD}){0,2})`;
const NAMED_PATIENT = new RegExp(String.raw`\b[Pp]atient(?:\s+(?:named|called))?\s+${NAME}`, 'g');

const ids = (list: string): string[] => list.split(/\s*(?:,|\band\b|\bor\b|&)\s*/i).map((x) => x.trim()).filter(Boolean);

/** "Jane Doe" / "Doe^Jane" / "DOE, JANE" → DICOM PN "Doe^Jane" (family^given, PS3.5 6.2.1). */
export function toPersonName(said: string): string {
  const s = said.trim();
  if (s.includes('^')) return s.replace(/\^+$/, '');
  const comma = s.split(/\s*,\s*/);
  if (comma.length === 2) return `${comma[0]}^${comma[1]}`;
  const words = s.split(/\s+/);
  return words.length === 1 ? words[0] : `${words[words.length - 1]}^${words.slice(0, -1).join(' ')}`;
}

const BODY_PARTS: readonly { re: RegExp; word: string }[] = [
  { re: /\b(chest|thorax|thoracic)\b/g, word: 'chest' },
  { re: /\b(abdomen|abdominal)\b/g, word: 'abdomen' },
  { re: /\b(pelvis|pelvic)\b/g, word: 'pelvis' },
  { re: /\b(head and neck|head|neck)\b/g, word: 'head' },
];

/** Synonyms a study's description or body site may use for a body-part word (post-filter). */
export const DESCRIBED_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  chest: ['chest', 'thorax', 'thoracic', 'lung'],
  abdomen: ['abdomen', 'abdominal', 'abd'],
  pelvis: ['pelvis', 'pelvic'],
  head: ['head', 'brain', 'skull', 'neck'],
};

export function readSelection(r: GoalReader, now: Date): SelectionRead {
  const sel: { -readonly [K in keyof SelectionParts]: SelectionParts[K] } = {};
  const understood: string[] = [];
  const problems: string[] = [];

  // Exclusions first, so "except patient 777888" can never read as "patient 777888".
  const excludePatients: string[] = [];
  for (const m of r.takeCased(new RegExp(`${EXCEPT}${PATIENT_WORDS}${ID_LIST}`, 'gi'))) excludePatients.push(...ids(m[1]));
  const excludeUids: string[] = [];
  for (const m of r.take(new RegExp(`${EXCEPT}(?:stud(?:y|ies)\\s+(?:uids?\\s+)?)?(${W.UID_RE.source}(?:\\s*(?:,|and|or)\\s*${W.UID_RE.source})*)`, 'g'))) {
    excludeUids.push(...(m[1].match(W.UID_RE) ?? []));
  }
  const excludeAcc: string[] = [];
  for (const m of r.takeCased(new RegExp(`${EXCEPT}${ACCESSION_WORDS}${ID_LIST}`, 'gi'))) excludeAcc.push(...ids(m[1]));
  if (excludePatients.length) {
    sel.excludePatients = [...new Set(excludePatients)];
    understood.push(`except patient${excludePatients.length > 1 ? 's' : ''}: ${sel.excludePatients.join(', ')} (never selected)`);
  }
  if (excludeUids.length) {
    sel.excludeStudyInstanceUids = [...new Set(excludeUids)];
    understood.push(`except study: ${sel.excludeStudyInstanceUids.join(', ')}`);
  }
  if (excludeAcc.length) problems.push(`excluding by accession number (say which studies to process instead)`);

  // Study Instance UIDs.
  const uids = [...new Set(r.take(W.UID_RE).map((m) => m[0]))];
  if (uids.length) {
    sel.studyInstanceUids = uids;
    understood.push(`study: ${uids.join(', ')}`);
  }

  // Dates: one range; a second one is a contradiction, not something to pick from.
  const range = parseDateRange(r.text, now);
  if (range) {
    r.takePhrase(range.said);
    if (range.from) sel.dateFrom = range.from;
    if (range.to) sel.dateTo = range.to;
    understood.push(`study date: ${range.from ?? '…'} to ${range.to ?? 'now'} ("${range.said.trim()}")`);
    const second = parseDateRange(r.text, now);
    if (second) {
      r.takePhrase(second.said);
      problems.push(`one date range (goal names "${range.said.trim()}" and "${second.said.trim()}")`);
    }
  }

  // Patients: by MRN (an identifier has a digit), then by name (capitalised, as written).
  const mrns: string[] = [];
  const mrnPhrases = r.takeCased(new RegExp(`\\b${PATIENT_WORDS}${ID_LIST}`, 'gi'));
  for (const m of mrnPhrases) mrns.push(...ids(m[1]));
  const uniq = [...new Set(mrns)];
  if (uniq.length === 1) sel.patient = uniq[0];
  else if (uniq.length > 1) sel.patients = uniq;
  if (uniq.length) understood.push(`patient${uniq.length > 1 ? 's' : ''}: ${uniq.join(', ')}`);
  const names: string[] = [];
  const namePhrases = r.takeCased(NAMED_PATIENT);
  for (const m of namePhrases) names.push(toPersonName(m[1]));
  // Two patient phrases would be a union ("patient 123 … patient 456") — wider than either alone.
  if (mrnPhrases.length > 1 || namePhrases.length > 1) {
    problems.push(`one list of patients (the goal names patients in ${Math.max(mrnPhrases.length, namePhrases.length)} places; say "patients 123 and 456")`);
  }
  if (names.length) {
    sel.patientNames = [...new Set(names)];
    understood.push(`patient named: ${sel.patientNames.join(', ')} (found by FHIR Patient search when run; several matches or none → refused${uniq.length ? '; must also be the patient with that MRN' : ''})`);
  }
  if (names.length + uniq.length > 0 && sel.excludePatients?.some((x) => uniq.includes(x))) {
    problems.push(`a clear patient choice (patient ${sel.excludePatients.filter((x) => uniq.includes(x)).join(', ')} is both asked for and excluded)`);
  }

  // Accession numbers.
  const acc: string[] = [];
  for (const m of r.takeCased(new RegExp(`\\b${ACCESSION_WORDS}${ID_LIST}`, 'gi'))) acc.push(...ids(m[1]));
  if (acc.length) {
    sel.accessionNumbers = [...new Set(acc)];
    understood.push(`accession: ${sel.accessionNumbers.join(', ')}`);
  }

  // Counts, with an order when the goal gives one ("the 5 most recent", "oldest 10").
  const newest = r.takeFirst(/\b(?:the\s+)?(?:(\d{1,4})\s+(?:most\s+recent|latest|newest|last)|(?:most\s+recent|latest|newest|last)\s+(\d{1,4}))\b/);
  const oldest = newest ? undefined : r.takeFirst(/\b(?:the\s+)?(?:(\d{1,4})\s+(?:oldest|earliest)|(?:oldest|earliest)\s+(\d{1,4}))\b/);
  const one = newest || oldest ? undefined : r.takeFirst(/\bthe\s+(most\s+recent|latest|newest|oldest|earliest)\b/);
  if (newest || oldest || one) {
    const m = (newest ?? oldest ?? one)!;
    sel.order = newest || (one && !/oldest|earliest/.test(one[1])) ? 'newest' : 'oldest';
    sel.limit = one ? 1 : Number(m[1] ?? m[2]);
    understood.push(`the ${sel.limit} ${sel.order === 'newest' ? 'most recent' : 'oldest'} stud${sel.limit === 1 ? 'y' : 'ies'} by study date`);
  } else {
    const lim = r.takeFirst(W.LIMIT_RE);
    if (lim) {
      sel.limit = Number(lim[1] ?? lim[2]);
      understood.push(`at most ${sel.limit} studies (in worklist order)`);
    }
  }
  if (sel.limit === 0) problems.push('a count of at least 1');

  // Body part and description words: the study or one of its series must say so.
  const described: string[] = [];
  for (const b of BODY_PARTS) if (r.take(b.re).length) described.push(b.word);
  for (const m of r.take(/\b(?:described\s+as|(?:with\s+)?(?:study\s+|series\s+)?description(?:\s+contains)?)\s+([a-z0-9][\w-]*)/g)) described.push(m[1]);
  if (described.length) {
    sel.describedAs = [...new Set(described)];
    understood.push(`described as: ${sel.describedAs.join(' and ')} (study / series description or body site must say so)`);
  }
  return { selection: sel, understood, problems };
}
