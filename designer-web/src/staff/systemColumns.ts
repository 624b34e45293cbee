// The columns every record has besides its form's fields (docs/api.md, "Names"): when and
// by whom it was created and last changed, and its owner. A list offers them after the
// form's fields; saved views store them under the server's names (`_created_at`, …). The
// list API always returns them, so they never go into its `fields` parameter. Pure.
import type { Label, RecordItem } from '../api/types.ts';
import type { Locale } from '../i18n/core.ts';
import type { Field } from '../forms/model.ts';

/** The system columns a list offers, in the order it offers them. (`_id` is the list's
 *  own `#` column; the version counters mean nothing to staff.) */
export const SYSTEM_COLUMNS = ['_created_at', '_created_by', '_updated_at', '_updated_by', '_owner'] as const;
export type SystemColumn = (typeof SYSTEM_COLUMNS)[number];

/** Where a record's API representation holds each column. */
const API_KEY: Record<SystemColumn, keyof RecordItem> = {
  _created_at: 'created_at',
  _created_by: 'created_by',
  _updated_at: 'updated_at',
  _updated_by: 'updated_by',
  _owner: 'owner',
};

const LABELS: Record<SystemColumn, Label> = {
  _created_at: { 'zh-CN': '创建时间', en: 'Created at' },
  _created_by: { 'zh-CN': '创建人', en: 'Created by' },
  _updated_at: { 'zh-CN': '修改时间', en: 'Updated at' },
  _updated_by: { 'zh-CN': '修改人', en: 'Updated by' },
  _owner: { 'zh-CN': '记录负责人', en: 'Record owner' },
};

const TIMESTAMPS: readonly string[] = ['_created_at', '_updated_at'];

export function isSystemColumn(key: string): key is SystemColumn {
  return (SYSTEM_COLUMNS as readonly string[]).includes(key);
}

/** The system columns as list fields (labelled, typed as the list shows and sorts them),
 *  so they sit in the column choice, headers, sort texts and view dialog like fields. */
export const SYSTEM_FIELDS: readonly Field[] = SYSTEM_COLUMNS.map((key) => ({
  key,
  type: TIMESTAMPS.includes(key) ? 'datetime' : 'member',
  schema: { type: 'string', 'x-type': TIMESTAMPS.includes(key) ? 'datetime' : 'member', 'x-label': LABELS[key] },
}));

/** The form's fields followed by the system columns: what a list may show. */
export function listColumns(fields: readonly Field[]): Field[] {
  return [...fields, ...SYSTEM_FIELDS];
}

/** The field keys among `columns`, for the list API's `fields` parameter. */
export function fieldColumns(columns: readonly string[]): string[] {
  return columns.filter((k) => !isSystemColumn(k));
}

/** A system column's value of a record as text: timestamps in the reader's local time,
 *  users by username. */
export function systemText(record: RecordItem, key: SystemColumn, locale: Locale): string {
  const v = record[API_KEY[key]];
  if (v === undefined || v === null || v === '') return '';
  if (!TIMESTAMPS.includes(key)) return String(v);
  const d = new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString(locale, { dateStyle: 'short', timeStyle: 'medium' });
}
