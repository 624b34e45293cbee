// Shapes of report and dashboard definitions and of a report run (docs/reports.md).
import type { Label } from '../api/types.ts';

export type TimeBucket = 'day' | 'week' | 'month' | 'quarter' | 'year';
export const TIME_BUCKETS: TimeBucket[] = ['day', 'week', 'month', 'quarter', 'year'];

/** A time bucket for date and date-time fields, or numeric buckets `[k·w, (k+1)·w)`. */
export type Bucket = TimeBucket | { width: number };

/** A dimension groups by a field's values, or (`duration`, with a `key`) by the time
 * between two date or date-time fields. */
export interface Dimension {
  field?: string;
  duration?: DimensionDuration;
  bucket?: Bucket;
  key?: string;
  label?: Label;
}

export type Agg =
  | 'count'
  | 'count_values'
  | 'count_distinct'
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'median'
  | 'percentile'
  | 'share'
  | 'ratio'
  | 'formula';
export const AGGS: Agg[] = [
  'count',
  'count_values',
  'count_distinct',
  'sum',
  'avg',
  'min',
  'max',
  'median',
  'percentile',
  'share',
  'ratio',
  'formula',
];
/** Aggregations over a value (`field` or `duration`). */
export const VALUE_AGGS: Agg[] = ['count_values', 'count_distinct', 'sum', 'avg', 'min', 'max', 'median', 'percentile'];
/** Aggregations that need a numeric value. */
export const NUMERIC_AGGS: Agg[] = ['sum', 'avg', 'median', 'percentile'];

export type DurationUnit = 'minutes' | 'hours' | 'days';
export const DURATION_UNITS: DurationUnit[] = ['minutes', 'hours', 'days'];
/** A dimension's duration may also count whole years. */
export type DimensionDurationUnit = DurationUnit | 'years';
export const DIMENSION_DURATION_UNITS: DimensionDurationUnit[] = [...DURATION_UNITS, 'years'];

export interface Duration {
  from: string;
  to: string;
  unit: DurationUnit;
}

export interface DimensionDuration {
  from: string;
  to: string;
  unit: DimensionDurationUnit;
}

export interface Measure {
  key: string;
  agg: Agg;
  field?: string;
  duration?: Duration;
  /** JSON Logic: only rows where it holds count (for `share`: the condition measured). */
  where?: unknown;
  /** `percentile`: 0–1. */
  q?: number;
  /** `ratio`: numerator and denominator measure keys. */
  of?: [string, string];
  /** `formula`: JSON Logic arithmetic (`+ - * /`) over other measures (`{"var": key}`)
   * and numbers (formula.ts). */
  expr?: unknown;
  label?: Label;
}

export interface SortKey {
  by: string;
  desc?: boolean;
}

export type ChartKind = 'table' | 'pivot' | 'bar' | 'line' | 'area' | 'pie' | 'funnel' | 'number' | 'heatmap';
export const CHART_KINDS: ChartKind[] = ['bar', 'line', 'area', 'pie', 'funnel', 'heatmap', 'number', 'pivot', 'table'];

export interface ChartSpec {
  kind: ChartKind;
  stacked?: boolean;
  horizontal?: boolean;
}

export interface ReportDefinition {
  label?: Label;
  form: string;
  /** A sub-table of the form whose rows the report counts (each with its record's fields). */
  rows?: string;
  filter?: unknown;
  dimensions: Dimension[];
  measures: Measure[];
  sort?: SortKey[];
  limit?: number;
  others?: boolean;
  chart?: ChartSpec;
}

export interface RunColumn {
  key: string;
  kind: 'dimension' | 'measure';
  field?: string;
  bucket?: Bucket;
  agg?: Agg;
  label?: Label;
  duration?: Duration | DimensionDuration;
}

export interface RunRow {
  cells: Record<string, unknown>;
  /** Records behind the row. */
  rows: number;
  /** The gathered rest of a top-N. */
  others?: boolean;
  /** A list-API filter giving exactly this row's records (absent over joined fields). */
  drill?: unknown;
  /** Per measure over some of the rows (`where`): the filter of the records behind its cell. */
  drills?: Record<string, unknown>;
  /** Names of reference and member dimension values (the referenced record, the user). */
  labels?: Record<string, string>;
}

export interface RunResult {
  report?: string;
  version?: number;
  form: string;
  columns: RunColumn[];
  rows: RunRow[];
  /** Measures left out because the caller may not read what they aggregate. */
  withheld?: { key: string; field?: string }[];
  total_rows?: number;
  chart?: ChartSpec;
}

export interface ReportSummary {
  key: string;
  label?: Label;
  form?: string;
  version?: number;
  chart?: ChartSpec;
}

/** A shared filter of a dashboard: a date range (over date fields) or a choice of values
 * (`select`, over text-valued fields: selects, members, departments, texts). */
export interface DashboardFilter {
  key: string;
  type: 'date_range' | 'select';
  label?: Label;
}

export interface Widget {
  report: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Shared filter key → field of the report's form. */
  filters?: Record<string, string>;
}

export interface DashboardDefinition {
  label?: Label;
  roles?: string[];
  filters?: DashboardFilter[];
  widgets: Widget[];
}

export interface DashboardSummary {
  key: string;
  label?: Label;
  roles?: string[];
  version?: number;
}

/** A `GET …/reports/{key}` answer: the definition, bare or wrapped like forms and flows. */
export function unwrapDefinition<T>(body: unknown): T | null {
  if (!body || typeof body !== 'object') return null;
  const o = body as Record<string, unknown>;
  if (o.definition && typeof o.definition === 'object') return o.definition as T;
  return body as T;
}

/** A list answer: `{items: […]}` or a bare array. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  const items = (body as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}
