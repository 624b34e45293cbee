// The columns every record has besides its form's fields (docs/api.md, "Names"): when and
// by whom it was created and last changed, and its owner. A list offers them after the
// form's fields, in the column choice and in the filter builder (which also offers the
// record id); saved views store them under the server's names (`_created_at`, …). The
// list API always returns them, so they never go into its `fields` parameter; an export's
// `fields` takes them (after `_id`, which an export always starts with). Pure.
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

/** The record id as a filter field: a number, as the server types it (the list shows it
 *  as its `#` column, never as a chosen one). */
const ID_FIELD: Field = {
  key: '_id',
  type: 'integer',
  schema: { type: 'integer', 'x-type': 'integer', 'x-label': { 'zh-CN': '记录 ID', en: 'Record ID' } },
};

/** The system columns the filter builder offers: the id, then the list's system columns
 *  (timestamps as date-time fields, users as member fields, so each gets the operators of
 *  its kind of field). */
export const SYSTEM_FILTER_FIELDS: readonly Field[] = [ID_FIELD, ...SYSTEM_FIELDS];

/** What the filter builder offers: the form's fields, then the system columns. Also what
 *  a saved view's conditions may name. */
export function filterFields(fields: readonly Field[]): Field[] {
  return [...fields, ...SYSTEM_FILTER_FIELDS];
}

/** `_created_at` and `_updated_at`: RFC 3339 UTC with milliseconds, compared as text. */
export function isSystemTimestamp(key: string): boolean {
  return TIMESTAMPS.includes(key);
}

/** A moment as the server writes its timestamps (`2026-03-01T00:00:00.000Z`), so that a
 *  filter's text comparison orders it correctly against them. */
export function timestampFilterValue(moment: Date): string {
  return moment.toISOString();
}

/** A timestamp in the reader's local time; the text itself when it is not one. */
export function timestampText(value: string, locale: Locale): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString(locale, { dateStyle: 'short', timeStyle: 'medium' });
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
  return TIMESTAMPS.includes(key) ? timestampText(String(v), locale) : String(v);
}
