// How a list's sort and filter conditions read in words (the card sort menu, the saved
// view dialog).
import type { Locale } from '../i18n/core.ts';
import { pickLabel } from '../i18n/core.ts';
import { displayValue } from '../forms/display.tsx';
import type { Field } from '../forms/model.ts';
import { needsValue, sortKeys, type Condition } from './filters.ts';
import { isSystemTimestamp, timestampText } from './systemColumns.ts';

type Translate = (key: string, vars?: Record<string, string | number>) => string;

function fieldName(key: string, byKey: Map<string, Field>, locale: Locale): string {
  const f = byKey.get(key);
  return f ? pickLabel(f.schema['x-label'] as Record<string, string> | undefined, locale, key) : key;
}

/** `Reported at descending, Priority ascending`; newest first when there is no sort. */
export function describeSort(sort: string | undefined, byKey: Map<string, Field>, t: Translate, locale: Locale): string {
  const keys = sortKeys(sort);
  if (keys.length === 0) return t('list.sortNewest');
  return keys
    .map((k) => t(k.desc ? 'list.descending' : 'list.ascending', { field: fieldName(k.key, byKey, locale) }))
    .join(locale === 'en' ? ', ' : '，');
}

/** `Priority equals High`; a system timestamp in local time. */
export function describeCondition(c: Condition, byKey: Map<string, Field>, t: Translate, locale: Locale): string {
  const parts = [fieldName(c.field, byKey, locale), t(`op.${c.op}`)];
  if (needsValue(c.op)) {
    const f = byKey.get(c.field);
    const value = f?.type === 'multi_select' ? displayValue([c.value], f.schema, locale) : displayValue(c.value, f?.schema, locale);
    if (isSystemTimestamp(c.field) && typeof c.value === 'string') parts.push(timestampText(c.value, locale));
    else parts.push(f?.type === 'reference' ? `#${String(c.value)}` : value);
  }
  return parts.join(' ');
}
