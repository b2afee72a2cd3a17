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

/** PS3.5 6.2: a PN value has at most 3 component groups of at most 5 components, each group at most 64 characters. */
const MAX_GROUPS = 3;
const MAX_COMPONENTS = 5;
const MAX_GROUP_CHARS = 64;

/**
 * One component group as PN: trailing empty components (and their carets) dropped, as PS3.5
 * 6.2.1.1 allows; components past the fifth joined into the fifth; cut to 64 characters by
 * shortening the given and middle names first, then the family name (whole words where it can).
 */
function group(components: string[]): string {
  const parts = components.map((c) => c.trim());
  if (parts.length > MAX_COMPONENTS) parts.splice(MAX_COMPONENTS - 1, parts.length, parts.slice(MAX_COMPONENTS - 1).filter(Boolean).join(' '));
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const over = () => parts.join('^').length - MAX_GROUP_CHARS;
  // given (1), middle (2), then family (0); a prefix or suffix is short and says who it is
  for (const k of [2, 1, 0]) {
    while (over() > 0 && parts[k]) {
      const words = parts[k].split(' ');
      parts[k] = words.length > 1 ? words.slice(0, -1).join(' ') : parts[k].slice(0, Math.max(0, parts[k].length - over()));
    }
  }
  return parts.join('^').slice(0, MAX_GROUP_CHARS);
}

function pn(family: string, given: string, prefix: string, suffix: string): string {
  return group([family, given, '', prefix, suffix]);
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
    // taken as PN, made a valid one: at most three groups (the rest dropped), each a valid group
    const groups = s.split('=').slice(0, MAX_GROUPS).map((g) => group(g.split('^')));
    while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
    return groups.join('=');
  }
  const comma = s.indexOf(',');
  if (comma >= 0) {
    const family = s.slice(0, comma).trim();
    const [givenPart = '', ...rest] = s
      .slice(comma + 1)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
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
