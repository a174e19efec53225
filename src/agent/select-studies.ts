import { DfaError } from '../core/errors.ts';
import type { ImagingFhir, WorkItem, WorkQuery } from '../core/ports.ts';
import { maskMrn } from '../core/phi.ts';
import type { Plan } from './plan.ts';
import { ANY_STATUS } from './plan-query.ts';
import { DESCRIBED_SYNONYMS } from './planner/selection-words.ts';

/**
 * The studies a plan selects: FHIR ImagingStudy searches for what a server can filter (status,
 * dates, patient, study UID), then post-filters for the rest (exclusions, accession numbers,
 * description words), then the order and the count. Every restriction in the plan is applied
 * here — a restriction that could not be applied would select more than the goal asked.
 *
 * Modality is deliberately NOT a search filter: every pending study the other filters select gets
 * a job, and one with no series of the plan's modality ends `skipped` at the find step with the
 * reason recorded, so a user sees why a pending study was not processed.
 */
export async function selectStudies(plan: Plan, fhir: Pick<ImagingFhir, 'findWork' | 'findPatients'>): Promise<WorkItem[]> {
  const s = plan.selection;
  const subjects = await subjectsOf(plan, fhir);
  const excluded = new Set<string>();
  for (const x of s.excludePatients ?? []) {
    if (x.startsWith('Patient/')) excluded.add(x);
    else for (const p of await fhir.findPatients({ identifier: x })) excluded.add(p.reference);
  }
  const postFiltered = excluded.size > 0 || !!s.excludeStudyInstanceUids?.length || !!s.accessionNumbers?.length || !!s.describedAs?.length || !!s.order;
  const base: WorkQuery = {
    status: s.status === 'any' ? ANY_STATUS : s.status,
    bodySite: s.bodySite,
    dateFrom: s.dateFrom,
    dateTo: s.dateTo,
    // The server may stop at the count only when nothing is filtered or ordered after it.
    limit: postFiltered ? undefined : s.limit,
  };
  const perPatient: WorkQuery[] = subjects === undefined ? [base] : subjects.map((patient) => ({ ...base, patient }));
  const queries = s.studyInstanceUids?.length ? perPatient.flatMap((q) => s.studyInstanceUids!.map((u) => ({ ...q, studyInstanceUid: u }))) : perPatient;
  const seen = new Map<string, WorkItem>();
  for (const q of queries) for (const w of await fhir.findWork(q)) if (!seen.has(w.studyInstanceUid)) seen.set(w.studyInstanceUid, w);
  return applyPostFilters([...seen.values()], plan, excluded);
}

/**
 * The patients a plan names, as Patient references; undefined = anyone. MRNs in one list are any of
 * them; a name must resolve to exactly one Patient; MRNs and a name together must be the same person.
 */
async function subjectsOf(plan: Plan, fhir: Pick<ImagingFhir, 'findPatients'>): Promise<string[] | undefined> {
  const s = plan.selection;
  const mrns = [...(s.patient ? [s.patient] : []), ...(s.patients ?? [])];
  const names = s.patientNames ?? [];
  if (mrns.length === 0 && names.length === 0) return undefined;
  let byMrn: string[] | undefined;
  if (mrns.length) {
    byMrn = [];
    for (const mrn of mrns) {
      const refs = mrn.startsWith('Patient/') ? [mrn] : (await fhir.findPatients({ identifier: mrn })).map((p) => p.reference);
      if (refs.length === 0) throw new DfaError('GOAL_UNSUPPORTED', `no patient with MRN ${maskMrn(mrn)} in FHIR; nothing was selected`, { details: { patientsFound: 0 } });
      byMrn.push(...refs);
    }
  }
  let out = byMrn;
  for (const name of names) {
    const found = await fhir.findPatients({ name });
    const shown = name.replace(/\^/g, ', ');
    if (found.length === 0) throw new DfaError('GOAL_UNSUPPORTED', `no patient named ${shown} in FHIR; nothing was selected`, { details: { patientsFound: 0 } });
    if (found.length > 1) {
      throw new DfaError(
        'GOAL_UNSUPPORTED',
        `${found.length} patients are named ${shown} in FHIR (MRNs ${found.map((p) => maskMrn(p.mrn)).join(', ')}); name the patient by MRN instead — nothing was selected`,
        { details: { patientsFound: found.length } },
      );
    }
    const ref = found[0].reference;
    if (out && !out.includes(ref)) throw new DfaError('GOAL_UNSUPPORTED', `the patient named ${shown} does not have the MRN the goal gives; nothing was selected`);
    out = [ref];
  }
  return [...new Set(out)];
}

/** Exclusions, accession numbers and description words, then the order and the count (pure). */
export function applyPostFilters(items: readonly WorkItem[], plan: Plan, excludedPatients: ReadonlySet<string> = new Set()): WorkItem[] {
  const s = plan.selection;
  const noUid = new Set(s.excludeStudyInstanceUids ?? []);
  const acc = s.accessionNumbers ? new Set(s.accessionNumbers.map((a) => a.toUpperCase())) : undefined;
  let out = items.filter(
    (w) =>
      !(w.patient && excludedPatients.has(w.patient)) &&
      !(w.patientMrn && s.excludePatients?.includes(w.patientMrn)) &&
      !noUid.has(w.studyInstanceUid) &&
      (!acc || (w.accessionNumber !== undefined && acc.has(w.accessionNumber.toUpperCase()))) &&
      (s.describedAs ?? []).every((word) => describes(w, word)),
  );
  if (s.order) {
    const sign = s.order === 'newest' ? -1 : 1;
    // Studies without a date go last whatever the order: "the 5 most recent" must not pick an undated one.
    out = [...out].sort((a, b) => (!a.started ? 1 : !b.started ? -1 : sign * a.started.localeCompare(b.started)));
    if (s.limit) out = out.filter((w) => !!w.started);
  }
  return s.limit ? out.slice(0, s.limit) : out;
}

function describes(w: WorkItem, word: string): boolean {
  const texts = [w.description, ...(w.series ?? []).flatMap((x) => [x.description, x.bodySite])].filter((t): t is string => !!t).map((t) => t.toLowerCase());
  const words = DESCRIBED_SYNONYMS[word] ?? [word];
  return texts.some((t) => words.some((x) => new RegExp(`(^|[^a-z0-9])${x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(t)));
}
