/**
 * Reads a goal phrase by phrase and keeps the books: every recogniser *takes* the words it
 * understood (they are blanked out), and whatever is left must be a filler word. Anything else is
 * a word the planner could not place, and the goal is refused naming it — a planner that skips
 * words it does not understand would do more than it was told (issue 11).
 */
export class GoalReader {
  /** Lower-cased working text; taken spans are blanked (same length, so offsets stay aligned). */
  #lower: string;
  /** The same text in its original case (names are recognised by their capitals). */
  #orig: string;

  constructor(goal: string) {
    const norm = ` ${goal.replace(/[“”"‘’`]/g, ' ').replace(/\s+/g, ' ').trim()} `;
    const lower = norm.toLowerCase();
    this.#lower = lower;
    // Lower-casing can change the length of a few non-ASCII letters; then names are matched in lower case.
    this.#orig = lower.length === norm.length ? norm : lower;
  }

  /** The remaining text, lower case (for tests that must not consume). */
  get text(): string {
    return this.#lower;
  }

  /** True when `re` matches the remaining (not yet taken) text. */
  has(re: RegExp): boolean {
    return new RegExp(re.source, re.flags.replace('g', '')).test(this.#lower);
  }

  /** Takes every match of `re` in the remaining lower-case text. */
  take(re: RegExp): RegExpExecArray[] {
    return this.#takeIn(re, false);
  }

  /** The first match only. */
  takeFirst(re: RegExp): RegExpExecArray | undefined {
    return this.#takeIn(re, false, true)[0];
  }

  /** Takes every match of `re` in the remaining original-case text (for capitalised names). */
  takeCased(re: RegExp): RegExpExecArray[] {
    return this.#takeIn(re, true);
  }

  /** Takes a literal phrase (e.g. the words a date parser reports it used). */
  takePhrase(phrase: string): boolean {
    const i = this.#lower.indexOf(phrase.toLowerCase());
    if (i < 0 || phrase.trim() === '') return false;
    this.#blank(i, phrase.length);
    return true;
  }

  #takeIn(re: RegExp, cased: boolean, firstOnly = false): RegExpExecArray[] {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    const src = cased ? this.#orig : this.#lower;
    const hits: RegExpExecArray[] = [];
    for (let m = g.exec(src); m; m = g.exec(src)) {
      if (m[0].length === 0) {
        g.lastIndex++;
        continue;
      }
      hits.push(m);
      if (firstOnly) break;
    }
    for (const m of hits) this.#blank(m.index, m[0].length);
    return hits;
  }

  #blank(at: number, n: number): void {
    const pad = ' '.repeat(n);
    this.#lower = this.#lower.slice(0, at) + pad + this.#lower.slice(at + n);
    this.#orig = this.#orig.slice(0, at) + pad + this.#orig.slice(at + n);
  }

  /** Words not taken and not filler, in goal order (punctuation ignored). */
  leftover(filler: ReadonlySet<string>): string[] {
    const words = this.#lower
      .split(/[\s,;:!?()[\]{}→>=<+&]+/)
      .map((w) => w.replace(/^[.'-]+|[.'-]+$/g, ''))
      .filter((w) => w !== '' && !/^[-–—.]+$/.test(w));
    return [...new Set(words.filter((w) => !filler.has(w)))];
  }
}

/**
 * Words that carry no instruction of their own in these goals: articles, prepositions, politeness,
 * the nouns for what is selected ("studies", "scans") and the verbs for writing results ("store",
 * "send"). A restriction word ("not", "except", "patient", "only") is never filler.
 */
export const FILLER: ReadonlySet<string> = new Set(
  (
    'a an the all any every each both of on in at for to from into onto with using use via by as and or ' +
    'please kindly can could would you me my our us i we it its them their they this these those that which who ' +
    'are is be been being was were there here then also now so ' +
    'study studies scan scans exam exams examination examinations case cases image images imaging series dataset datasets ' +
    'volume volumes data results result output outputs file files object objects ' +
    'store stored save saved send sent write written put push upload export generate create produce make makes ' +
    'return back pacs archive' +
    ' model method algorithm segmenter tool approach pipeline'
  ).split(/\s+/),
);
