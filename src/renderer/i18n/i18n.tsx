/** One i18n mechanism for all UI text: t(key, params), locale-aware numbers and dates, persisted language. */
import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { Language, MessageKey } from './messages';
import { className, engineError, translate } from './translate';

export { translate };

const STORAGE_KEY = 'resight.language';

interface I18n {
  lang: Language;
  setLang(l: Language): void;
  t(key: MessageKey, params?: Record<string, string | number>): string;
  /** A model class's name for people (translated where the messages know it). */
  cls(name: string): string;
  num(v: number, digits?: number): string;
  date(d: Date): string;
  /** An engine error (an ApiError, or an `{code, message}` from an event) in the user's language (translate.ts engineError). */
  err(e: unknown): string;
}

const Ctx = createContext<I18n | null>(null);

function initialLanguage(): Language {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'ja') return saved;
  return navigator.language.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Language>(initialLanguage);
  const setLang = useCallback((l: Language) => {
    localStorage.setItem(STORAGE_KEY, l);
    document.documentElement.lang = l;
    setLangState(l);
  }, []);
  const value = useMemo<I18n>(() => {
    const locale = lang === 'ja' ? 'ja-JP' : 'en-US';
    return {
      lang,
      setLang,
      t: (key, params) => translate(lang, key, params),
      cls: (name) => className(lang, name),
      num: (v, digits = 0) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v),
      date: (d) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d),
      err: (e) => {
        const o = (e ?? {}) as { code?: unknown; message?: unknown };
        return engineError(lang, typeof o.code === 'string' ? o.code : undefined, typeof o.message === 'string' ? o.message : String(e));
      },
    };
  }, [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
