// How report columns and values read: labels of dimensions and measures, dimension values
// (time buckets, number bands, select options, the "others" row) and measure numbers
// (shares as percentages, durations with one decimal). Pure.
import type { Label } from '../api/types.ts';
import type { FieldType } from '../forms/model.ts';
import { pickLabel, translate, type Locale } from '../i18n/core.ts';
import { messages } from './messages.ts';
import type { Agg, Bucket, Dimension, Measure, ReportDefinition, RunColumn, RunResult } from './types.ts';

/** What the UI knows of a field of the source form (or a joined one, by dotted path). */
export interface FieldInfo {
  label?: Label;
  type?: FieldType;
  /** Select options: value → label. */
  options?: Record<string, Label>;
}
export type FieldLookup = (path: string) => FieldInfo | undefined;

export function tr(locale: Locale, key: string, vars?: Record<string, string | number>): string {
  return translate(messages, locale, key, vars);
}

/** A dimension's column key, as the server names it: `key`; else, for a time bucket of a
 * field that several dimensions use, `field:bucket`; else `field` (a duration dimension
 * has a `key`; without one it is `''`). */
export function dimKey(d: Pick<Dimension, 'field' | 'bucket' | 'key'>, all: Pick<Dimension, 'field'>[] = [d]): string {
  if (d.key) return d.key;
  if (!d.field) return '';
  const shared = all.filter((x) => x.field === d.field).length > 1;
  return typeof d.bucket === 'string' && shared ? `${d.field}:${d.bucket}` : d.field;
}

/** Aggregation names as the definition spells them (some servers send `countdistinct`). */
export function normalAgg(agg: string | undefined): Agg | undefined {
  if (agg === 'countvalues') return 'count_values';
  if (agg === 'countdistinct') return 'count_distinct';
  return agg as Agg | undefined;
}

export function bucketText(b: Bucket, locale: Locale): string {
  return typeof b === 'string' ? tr(locale, `reports.bucket.${b}`) : tr(locale, 'reports.bucket.width', { w: b.width });
}

/** A field's label from the lookup, else its path. */
export function fieldName(path: string, locale: Locale, lookup?: FieldLookup): string {
  return pickLabel(lookup?.(path)?.label, locale, path);
}

/** A dimension's label: its own, else the field's (with the bucket), else for a duration
 * "from → to (unit)". */
export function dimensionLabel(d: Pick<Dimension, 'field' | 'duration' | 'bucket' | 'key' | 'label'>, locale: Locale, lookup?: FieldLookup): string {
  if (d.label) return pickLabel(d.label, locale, d.key ?? d.field ?? '');
  const bucket = d.bucket === undefined ? '' : bucketText(d.bucket, locale);
  if (!d.field && d.duration) {
    const { from, to, unit } = d.duration;
    const what = [tr(locale, `reports.unitName.${unit}`), bucket].filter(Boolean).join(', ');
    return `${fieldName(from, locale, lookup)} → ${fieldName(to, locale, lookup)} (${what})`;
  }
  const name = d.field ? fieldName(d.field, locale, lookup) : (d.key ?? '');
  return bucket ? `${name} (${bucket})` : name;
}

/** A measure's label: its own, else the aggregation of its field, else its key. */
export function measureLabel(m: Partial<Measure> & { key: string }, locale: Locale, lookup?: FieldLookup): string {
  if (m.label) return pickLabel(m.label, locale, m.key);
  const agg = m.agg ? tr(locale, `reports.agg.${m.agg}`) : '';
  if (m.field) return `${fieldName(m.field, locale, lookup)} (${agg})`;
  if (m.duration) {
    const from = fieldName(m.duration.from, locale, lookup);
    const to = fieldName(m.duration.to, locale, lookup);
    return `${from} → ${to} (${agg})`;
  }
  if (m.agg === 'count' && m.where === undefined) return agg;
  return m.key;
}

/** The definition's measure behind a result column (by key), merged with the column. */
export function measureOf(col: RunColumn, def?: ReportDefinition | null): Partial<Measure> & { key: string } {
  const m = def?.measures.find((x) => x.key === col.key);
  const agg = m?.agg ?? normalAgg(col.agg);
  return { ...m, ...stripUndefined(col), label: col.label ?? m?.label, key: col.key, ...(agg ? { agg } : {}) } as Partial<Measure> & { key: string };
}

/** The definition's dimension behind a result column: same key, else the same position. */
export function dimensionOf(col: RunColumn, index: number, def?: ReportDefinition | null): Dimension {
  const d = def?.dimensions.find((x) => dimKey(x, def.dimensions) === col.key) ?? def?.dimensions[index];
  const duration = col.field === undefined ? (col.duration ?? (d?.field === undefined ? d?.duration : undefined)) : undefined;
  return {
    ...(duration ? { duration, key: col.key } : { field: col.field ?? d?.field ?? col.key }),
    ...(col.bucket !== undefined ? { bucket: col.bucket } : d?.bucket !== undefined ? { bucket: d.bucket } : {}),
    ...(col.label ? { label: col.label } : d?.label ? { label: d.label } : {}),
  };
}

function stripUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

export function dimensionColumns(result: RunResult): RunColumn[] {
  return result.columns.filter((c) => c.kind === 'dimension');
}

export function measureColumns(result: RunResult): RunColumn[] {
  return result.columns.filter((c) => c.kind === 'measure');
}

/** The label of a result column. */
export function columnLabel(col: RunColumn, result: RunResult, def: ReportDefinition | null | undefined, locale: Locale, lookup?: FieldLookup): string {
  if (col.kind === 'measure') return measureLabel(measureOf(col, def), locale, lookup);
  const i = dimensionColumns(result).indexOf(col);
  return dimensionLabel(dimensionOf(col, i, def), locale, lookup);
}

function numberFormat(locale: Locale, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  return new Intl.NumberFormat(locale, opts);
}

/** A measure value as text: shares as percentages, durations with one decimal and unit,
 * counts as whole numbers, other numbers with up to two decimals; empty as a dash. */
export function formatMeasure(value: unknown, m: Partial<Measure>, locale: Locale): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return '—';
  if (m.agg === 'share') return numberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
  if (m.duration && m.agg !== 'count_values' && m.agg !== 'count_distinct') {
    const n = numberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
    return tr(locale, `reports.unit.${m.duration.unit}`, { n });
  }
  if (m.agg === 'count' || m.agg === 'count_values' || m.agg === 'count_distinct')
    return numberFormat(locale, { maximumFractionDigits: 0 }).format(value);
  return numberFormat(locale, { maximumFractionDigits: 2 }).format(value);
}

/** A compact axis number for a measure (no unit, shares as whole percentages). */
export function formatAxis(value: number, m: Partial<Measure>, locale: Locale): string {
  if (m.agg === 'share') return numberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(value);
  return numberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** A dimension value as text: the "others" row, empty values, number bands, select
 * option labels, booleans; time buckets come from the server already as text. */
export function formatDimValue(
  value: unknown,
  d: Pick<Dimension, 'field' | 'bucket' | 'duration'>,
  locale: Locale,
  opts: { others?: boolean; lookup?: FieldLookup; name?: string } = {},
): string {
  if (opts.others) return tr(locale, 'reports.others');
  if (opts.name) return opts.name;
  if (value === null || value === undefined || value === '') return tr(locale, 'reports.emptyValue');
  // A duration's number or band with its unit: "2–3 y".
  const unit = (n: string) => (!d.field && d.duration ? tr(locale, `reports.unit.${d.duration.unit}`, { n }) : n);
  if (typeof d.bucket === 'object' && typeof value === 'number') {
    const hi = value + d.bucket.width;
    const f = numberFormat(locale, { maximumFractionDigits: 6, useGrouping: false });
    return unit(`${f.format(value)}–${f.format(hi)}`);
  }
  if (typeof value === 'boolean') return tr(locale, value ? 'reports.true' : 'reports.false');
  if (!d.field) return typeof value === 'number' ? unit(numberFormat(locale, { maximumFractionDigits: 6 }).format(value)) : String(value);
  const info = opts.lookup?.(d.field);
  if (typeof value === 'string' && info?.options?.[value]) return pickLabel(info.options[value], locale, value);
  if (typeof value === 'number') return numberFormat(locale, { maximumFractionDigits: 6 }).format(value);
  return String(value);
}
