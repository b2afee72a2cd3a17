/** A message in a language, its parameters filled in (no React: the viewer's i18n context and Node tests both use it). */
import type { Language, MessageKey } from './messages';
import { en, ja } from './messages';

const TABLES: Record<Language, Partial<Record<MessageKey, string>>> = { en, ja };

export function translate(lang: Language, key: MessageKey, params: Record<string, string | number> = {}): string {
  const raw = TABLES[lang][key] ?? en[key];
  // {n|one|other}: the singular when params.n is 1 ("1 finding", "2 findings"); languages without plurals write no such part
  return raw
    .replace(/\{(\w+)\|([^|}]*)\|([^}]*)\}/g, (_m, k: string, one: string, other: string) => (Number(params[k]) === 1 ? one : other))
    .replace(/\{(\w+)\}/g, (_m, k: string) => (k in params ? String(params[k]) : `{${k}}`));
}

/**
 * An error from the engine as the user's language says it: in English the engine's own message
 * (it names the file and the problem); in another language the code's meaning in that language,
 * with the engine's English message after it for the details (and for support).
 */
export function engineError(lang: Language, code: string | undefined, message: string): string {
  if (lang === 'en' || !code) return message;
  const said = TABLES[lang][`error.${code}` as MessageKey];
  return said ? `${said} (${message})` : message;
}

/** A model class for people: its name in the language where the messages have one (`class.<name>`), else the card's name with spaces for underscores. */
export function className(lang: Language, cls: string): string {
  const key = `class.${cls}` as MessageKey;
  return TABLES[lang][key] ?? en[key] ?? cls.replace(/_/g, ' ');
}
