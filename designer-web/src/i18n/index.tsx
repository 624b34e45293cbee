// Locale context: zh-CN and en, switchable, remembered in localStorage. An app's
// `default_locale` is used until the user picks one.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { pickLabel, translate, type Locale, type Messages } from './core.ts';
import { messages as common } from './messages.ts';
import { messages as designer } from '../designer/messages.ts';
import { messages as admin } from '../admin/messages.ts';
import { messages as flows } from '../flows/messages.ts';
import { messages as reports } from '../reports/messages.ts';

export type { Locale } from './core.ts';

const ALL: Messages = { ...common, ...designer, ...admin, ...flows, ...reports };
const STORAGE_KEY = 'formwork.locale';

interface I18n {
  locale: Locale;
  setLocale: (l: Locale) => void;
  /** Was the locale chosen by the user (rather than the default)? */
  chosen: boolean;
  t: (key: string, vars?: Record<string, string | number>) => string;
  label: (l: Record<string, string> | undefined | null, fallback?: string) => string;
}

const Ctx = createContext<I18n | null>(null);

function stored(): Locale | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'en' || v === 'zh-CN' ? v : null;
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const initial = stored();
  const [locale, setLocaleState] = useState<Locale>(initial ?? 'zh-CN');
  const [chosen, setChosen] = useState(initial !== null);
  const setLocale = useCallback((l: Locale) => {
    setLocaleState(l);
    setChosen(true);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // private mode: the choice lasts for this page only
    }
    document.documentElement.lang = l;
  }, []);
  const value = useMemo<I18n>(
    () => ({
      locale,
      setLocale,
      chosen,
      t: (key, vars) => translate(ALL, locale, key, vars),
      label: (l, fallback) => pickLabel(l, locale, fallback),
    }),
    [locale, setLocale, chosen],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
