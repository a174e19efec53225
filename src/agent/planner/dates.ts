/**
 * Relative and absolute dates in goals ("since Monday", "yesterday", "last 7 days",
 * "since 2026-03-01", "between 2026-01-01 and 2026-01-31"). `now` is injected so tests are fixed.
 * Dates are calendar days (YYYY-MM-DD) in UTC.
 */
export interface DateRange {
  from?: string;
  to?: string;
  said: string; // the words that produced it, for "what I understood"
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const ISO = '(\\d{4}-\\d{2}-\\d{2})';

function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}
function addDays(d: Date, n: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n));
}

export function parseDateRange(text: string, now: Date): DateRange | undefined {
  const t = text.toLowerCase();
  const today = addDays(now, 0);
  let m: RegExpMatchArray | null;
  if ((m = t.match(new RegExp(`(?:between|from)\\s+${ISO}\\s+(?:and|to|until)\\s+${ISO}`)))) {
    return { from: m[1], to: m[2], said: m[0] };
  }
  if ((m = t.match(new RegExp(`(?:since|after|from)\\s+${ISO}`)))) return { from: m[1], said: m[0] };
  if ((m = t.match(new RegExp(`(?:before|until)\\s+${ISO}`)))) return { to: m[1], said: m[0] };
  if ((m = t.match(new RegExp(`(?:on|of|dated)\\s+${ISO}`)))) return { from: m[1], to: m[1], said: m[0] };
  if ((m = t.match(/\bsince (?:last )?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/))) {
    const want = DAYS.indexOf(m[1]);
    // The most recent such day before today ("since Monday" on a Monday means a week ago).
    let back = (today.getUTCDay() - want + 7) % 7;
    if (back === 0) back = 7;
    return { from: iso(addDays(today, -back)), said: m[0] };
  }
  if ((m = t.match(/\b(?:from |on )?(?:last )?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/))) {
    // "last Tuesday" / "on Tuesday": that one day, the most recent such day before today.
    const want = DAYS.indexOf(m[1]);
    let back = (today.getUTCDay() - want + 7) % 7;
    if (back === 0) back = 7;
    const d = iso(addDays(today, -back));
    return { from: d, to: d, said: m[0] };
  }
  if ((m = t.match(/\b(?:in the )?(?:last|past) (\d{1,3}) (day|week|month)s?\b/))) {
    const n = Number(m[1]) * (m[2] === 'day' ? 1 : m[2] === 'week' ? 7 : 30);
    return { from: iso(addDays(today, -n)), said: m[0] };
  }
  if ((m = t.match(/\b(?:from |since )?yesterday\b/))) {
    const y = iso(addDays(today, -1));
    return m[0].startsWith('since') ? { from: y, said: m[0] } : { from: y, to: y, said: m[0] };
  }
  if ((m = t.match(/\b(?:from |since )?today\b|\bthis morning\b/))) return { from: iso(today), to: iso(today), said: m[0] };
  if ((m = t.match(/\b(?:from )?this week\b/))) {
    const back = (today.getUTCDay() + 6) % 7; // weeks start on Monday (ISO 8601)
    return { from: iso(addDays(today, -back)), said: m[0] };
  }
  if ((m = t.match(/\b(?:from )?last week\b/))) {
    const back = ((today.getUTCDay() + 6) % 7) + 7;
    return { from: iso(addDays(today, -back)), to: iso(addDays(today, -back + 6)), said: m[0] };
  }
  if ((m = t.match(new RegExp(`\\b${ISO}\\b`)))) return { from: m[1], to: m[1], said: m[0] };
  return undefined;
}
