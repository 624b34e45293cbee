// How a stored value reads in lists and history.
import type { JsonSchema, RecordItem } from '../api/types.ts';
import type { Locale } from '../i18n/core.ts';
import { pickLabel } from '../i18n/core.ts';
import { displayOf } from './directory.ts';
import { fieldType, optionsOf } from './model.ts';

export function displayValue(
  value: unknown,
  prop: JsonSchema | undefined,
  locale: Locale,
  expanded?: RecordItem | null,
): string {
  if (value === undefined || value === null) return '';
  const t = fieldType(prop);
  const yes = locale === 'en' ? 'Yes' : '是';
  const no = locale === 'en' ? 'No' : '否';
  switch (t) {
    case 'select': {
      const o = optionsOf(prop ?? {}).find((x) => x.value === value);
      return o ? pickLabel(o.label, locale, String(value)) : String(value);
    }
    case 'multi_select':
      return Array.isArray(value)
        ? value.map((v) => pickLabel(optionsOf(prop ?? {}).find((x) => x.value === v)?.label, locale, String(v))).join(', ')
        : String(value);
    case 'boolean':
      return value === true ? yes : no;
    case 'reference': {
      const display = (prop?.['x-ref'] as { display?: string } | undefined)?.display;
      return expanded ? displayOf(expanded.data, display, expanded.id) : `#${String(value)}`;
    }
    case 'money':
      return typeof value === 'number' ? value.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(value);
    case 'region': {
      const r = value as Record<string, string>;
      return [r.province, r.city, r.district].filter(Boolean).join(' ');
    }
    case 'sub_table':
      return Array.isArray(value) ? `[${value.length}]` : '';
    case 'attachment':
      return Array.isArray(value) ? value.map((f: { name?: string }) => f.name ?? '?').join(', ') : '';
    case 'signature':
      return '✍';
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
