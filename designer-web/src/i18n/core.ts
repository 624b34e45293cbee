// Locale-independent i18n helpers (no React), unit-testable.

export type Locale = 'zh-CN' | 'en';
export const LOCALES: Locale[] = ['zh-CN', 'en'];

/** Messages of one module: key → {zh-CN, en}. `{name}` placeholders are filled by `t`. */
export type Messages = Record<string, Record<Locale, string>>;

/** Pick the text of a `{zh-CN, en}` label for a locale, falling back to the other one. */
export function pickLabel(label: Record<string, string> | undefined | null, locale: Locale, fallback = ''): string {
  if (!label) return fallback;
  return label[locale] ?? label[locale === 'en' ? 'zh-CN' : 'en'] ?? Object.values(label)[0] ?? fallback;
}

export function format(template: string, vars?: Record<string, string | number>): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function translate(messages: Messages, locale: Locale, key: string, vars?: Record<string, string | number>): string {
  const m = messages[key];
  return format(m ? m[locale] : key, vars);
}
