/**
 * A person's name as people type it, made a DICOM Person Name (PS3.5 6.2, VR PN): the reviewer
 * types "Hanako Sato" or "Sato, Hanako" (or 佐藤 花子), never DICOM's caret form, and the SR's
 * Person Observer Name gets `Sato^Hanako` (family^given^middle^prefix^suffix). One function, so
 * the SR and anything else that writes a typed name as PN agree.
 */

/** Honorifics that go into the name prefix component when typed before the name. */
const PREFIXES = /^(dr|prof|mr|mrs|ms|mx|miss)\.?$/i;
/** Generational suffixes and degrees that go into the name suffix component when typed after it. */
const SUFFIXES = /^(jr|sr|ii|iii|iv|md|m\.d|phd|ph\.d)\.?$/i;
/** Scripts whose names are written family name first (Japanese, Chinese, Korean). */
const FAMILY_FIRST = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Text a PN may hold: no backslash (it separates values) and no control characters; spaces collapsed. */
const clean = (s: string) =>
  s
    .replace(/[\\\p{Cc}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** The components, trailing empty ones (and their carets) dropped, as PS3.5 6.2.1.1 allows. */
function pn(family: string, given: string, prefix: string, suffix: string): string {
  const parts = [family, given, '', prefix, suffix];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('^');
}

/**
 * `typed` as a DICOM PN:
 *
 * - with a caret or an equals sign it is taken as PN already (`Sato^Hanako`,
 *   `Yamada^Tarou=山田^太郎`) and kept, spaces around the delimiters trimmed;
 * - "Family, Given" (the comma form): family name before the comma, given names after it, a
 *   further comma's words the suffix (`Sato, Hanako, MD` -> `Sato^Hanako^^^MD`);
 * - otherwise words: a leading Dr / Prof / Mr / Mrs / Ms / Mx / Miss is the prefix, trailing Jr /
 *   Sr / II-IV / MD / PhD the suffix; of the rest, a name in Japanese, Chinese or Korean script
 *   is family name first (`佐藤 花子` -> `佐藤^花子`), any other family name last (`Hanako Sato`
 *   -> `Sato^Hanako`, `John Robert Adams` -> `Adams^John Robert`); a single word is the family name.
 *
 * Backslashes and control characters, which a PN cannot hold, become spaces. An empty or blank
 * name gives ''.
 */
export function toPersonName(typed: string): string {
  const s = clean(typed);
  if (!s) return '';
  if (s.includes('^') || s.includes('=')) {
    return s
      .split('=')
      .map((group) =>
        group
          .split('^')
          .map((c) => c.trim())
          .join('^'),
      )
      .join('=');
  }
  const comma = s.indexOf(',');
  if (comma >= 0) {
    const family = s.slice(0, comma).trim();
    const [givenPart = '', ...rest] = s
      .slice(comma + 1)
      .split(',')
      .map((x) => x.trim());
    const givenWords = givenPart.split(' ').filter(Boolean);
    const prefix = givenWords.length > 1 && PREFIXES.test(givenWords[0] as string) ? (givenWords.shift() as string) : '';
    return pn(family, givenWords.join(' '), prefix, rest.filter(Boolean).join(' '));
  }
  const words = s.split(' ');
  const prefixes: string[] = [];
  while (words.length > 1 && PREFIXES.test(words[0] as string)) prefixes.push(words.shift() as string);
  const suffixes: string[] = [];
  while (words.length > 1 && SUFFIXES.test(words[words.length - 1] as string)) suffixes.unshift(words.pop() as string);
  const prefix = prefixes.join(' ');
  const suffix = suffixes.join(' ');
  if (words.length === 1) return pn(words[0] as string, '', prefix, suffix);
  if (FAMILY_FIRST.test(words.join(''))) return pn(words[0] as string, words.slice(1).join(' '), prefix, suffix);
  return pn(words[words.length - 1] as string, words.slice(0, -1).join(' '), prefix, suffix);
}
