/**
 * How people see who a study belongs to. An MRN is masked to its last four characters by default
 * ("***4567"); the full value only for those allowed to see it (`--show-phi`, or the API's
 * `X-DFA-Show-PHI: 1` / `?showPhi=1`). Names follow the same rule: initials when masked.
 */
export function maskMrn(mrn: string | undefined, show = false): string {
  if (!mrn) return '?';
  if (show) return mrn;
  return mrn.length <= 4 ? '***' : `***${mrn.slice(-4)}`;
}

/** "Doe^Jane" → "Doe, Jane" (shown) or "D. J." (masked). */
export function showName(pn: string | undefined, show = false): string | undefined {
  if (!pn) return undefined;
  const [family = '', given = ''] = pn.split('^');
  if (show) return [family, given].filter(Boolean).join(', ');
  return [family, given].filter(Boolean).map((x) => `${x[0]!.toUpperCase()}.`).join(' ');
}

/** A volume for people: mL to 0.1 (JSON keeps the exact value). */
export function roundMl(ml: number): string {
  return `${(Math.round(ml * 10) / 10).toFixed(1)} mL`;
}
