// A run result as something to look at: an ECharts option (bar, line, area, pie, funnel,
// heatmap), a pivot, a table or number cards. Pure; every chart data item carries `row`,
// the index of the result row behind it, so a click can drill down.
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, FunnelSeriesOption, HeatmapSeriesOption, LineSeriesOption, PieSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components';
import type { Locale } from '../i18n/core.ts';
import {
  columnLabel,
  dimensionColumns,
  dimensionOf,
  formatAxis,
  formatDimValue,
  formatMeasure,
  measureColumns,
  measureOf,
  type FieldLookup,
} from './format.ts';
import type { ChartKind, ChartSpec, ReportDefinition, RunResult } from './types.ts';

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | PieSeriesOption
  | FunnelSeriesOption
  | HeatmapSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
>;

/** A chart data item: its value and the result row it stands for. */
export interface DataItem {
  value: number | null | (number | null)[];
  name?: string;
  row: number;
  /** The measure the item shows (its cell may drill to fewer records than its row). */
  measure?: string;
}

/** Kinds drawn with ECharts (the rest are React components). */
export const ECHARTS_KINDS: ChartKind[] = ['bar', 'line', 'area', 'pie', 'funnel', 'heatmap'];

/** The chart to draw: the definition's, else the run's, else a table. */
export function chartSpec(result: RunResult | null, def?: ReportDefinition | null): ChartSpec {
  return def?.chart ?? result?.chart ?? { kind: 'table' };
}

interface Ctx {
  result: RunResult;
  def: ReportDefinition | null | undefined;
  locale: Locale;
  lookup: FieldLookup | undefined;
}

/** The text of the dimensions `dims` (indexes into the dimension columns) of row `i`. */
function dimText(c: Ctx, i: number, dims: number[]): string {
  const row = c.result.rows[i]!;
  const cols = dimensionColumns(c.result);
  return dims
    .map((d) => {
      const col = cols[d];
      if (!col) return '';
      const dim = dimensionOf(col, d, c.def);
      return formatDimValue(row.cells[col.key], dim, c.locale, { others: d === 0 && row.others === true, lookup: c.lookup, name: row.labels?.[col.key] });
    })
    .join(' / ');
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Distinct values in first-seen order. */
function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function range(n: number, from = 0): number[] {
  return Array.from({ length: Math.max(0, n - from) }, (_, i) => i + from);
}

/** The ECharts option of a result, or null for kinds drawn otherwise (table, pivot,
 * number) and for results without measures. */
export function toChartOption(result: RunResult, def: ReportDefinition | null | undefined, locale: Locale, lookup?: FieldLookup): ChartOption | null {
  const spec = chartSpec(result, def);
  const measures = measureColumns(result);
  if (!ECHARTS_KINDS.includes(spec.kind) || measures.length === 0) return null;
  const c: Ctx = { result, def, locale, lookup };
  if (spec.kind === 'pie' || spec.kind === 'funnel') return sliceOption(c, spec.kind);
  if (spec.kind === 'heatmap') return heatmapOption(c);
  return axisOption(c, spec);
}

function axisOption(c: Ctx, spec: ChartSpec): ChartOption {
  const { result, locale } = c;
  const dims = dimensionColumns(result).length;
  const measures = measureColumns(result);
  const rows = range(result.rows.length);
  const catOf = (i: number) => (dims === 0 ? '' : dimText(c, i, [0]));
  const categories = distinct(rows.map(catOf));
  // Two dimensions and more: one series per value of the others (first measure only);
  // otherwise one series per measure.
  const split = dims >= 2;
  const seriesKeys = split ? distinct(rows.map((i) => dimText(c, i, range(dims, 1)))) : measures.map((m) => m.key);
  const first = measureOf(measures[0]!, c.def);
  const type: 'bar' | 'line' = spec.kind === 'bar' ? 'bar' : 'line';
  const stack = spec.stacked || (spec.kind === 'area' && split) ? 'total' : undefined;
  const series = seriesKeys.map((sk, si) => {
    const m = split ? first : measureOf(measures[si]!, c.def);
    const data: (DataItem | null)[] = categories.map(() => null);
    for (const i of rows) {
      if (split && dimText(c, i, range(dims, 1)) !== sk) continue;
      const ci = categories.indexOf(catOf(i));
      const v = num(result.rows[i]!.cells[m.key]);
      data[ci] = { value: v, row: i, measure: m.key };
    }
    const name = split ? sk : columnLabel(measures[si]!, result, c.def, locale, c.lookup);
    return {
      type,
      name,
      data,
      ...(stack ? { stack } : {}),
      ...(spec.kind === 'area' ? { areaStyle: {} } : {}),
      ...(type === 'line' ? { connectNulls: true } : {}),
      tooltip: { valueFormatter: (v: unknown) => formatMeasure(v, m, locale) },
    };
  }) as (BarSeriesOption | LineSeriesOption)[];
  const horizontal = spec.horizontal === true && (spec.kind === 'bar' || spec.kind === 'area');
  const categoryAxis = {
    type: 'category' as const,
    data: categories,
    ...(horizontal ? { inverse: true } : { axisLabel: { hideOverlap: true } }),
    ...(spec.kind !== 'bar' ? { boundaryGap: false } : {}),
  };
  const valueAxis = { type: 'value' as const, axisLabel: { formatter: (v: number) => formatAxis(v, first, locale) } };
  return {
    tooltip: { trigger: 'axis', confine: true },
    legend: { show: series.length > 1, type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? categoryAxis : valueAxis,
    series,
  };
}

function sliceOption(c: Ctx, kind: 'pie' | 'funnel'): ChartOption {
  const { result, locale } = c;
  const dims = dimensionColumns(result).length;
  const mcol = measureColumns(result)[0]!;
  const m = measureOf(mcol, c.def);
  const data: DataItem[] = range(result.rows.length).map((i) => ({
    name: dims === 0 ? columnLabel(mcol, result, c.def, locale, c.lookup) : dimText(c, i, range(dims)),
    value: num(result.rows[i]!.cells[m.key]),
    row: i,
  }));
  const name = columnLabel(mcol, result, c.def, locale, c.lookup);
  const tooltip = { valueFormatter: (v: unknown) => formatMeasure(v, m, locale) };
  const series =
    kind === 'pie'
      ? ({ type: 'pie', name, data, radius: ['35%', '70%'], center: ['50%', '55%'], tooltip, label: { formatter: '{b}: {d}%' } } as PieSeriesOption)
      : ({ type: 'funnel', name, data, left: '10%', width: '80%', top: 40, bottom: 8, sort: 'descending', tooltip } as FunnelSeriesOption);
  return {
    tooltip: { trigger: 'item', confine: true },
    legend: { type: 'scroll', top: 0 },
    series: [series],
  };
}

function heatmapOption(c: Ctx): ChartOption {
  const { result, locale } = c;
  const dims = dimensionColumns(result).length;
  const mcol = measureColumns(result)[0]!;
  const m = measureOf(mcol, c.def);
  const rows = range(result.rows.length);
  const xOf = (i: number) => (dims === 0 ? '' : dimText(c, i, [0]));
  const yOf = (i: number) => (dims < 2 ? '' : dimText(c, i, range(dims, 1)));
  const xs = distinct(rows.map(xOf));
  const ys = distinct(rows.map(yOf));
  const data: DataItem[] = rows.map((i) => ({ value: [xs.indexOf(xOf(i)), ys.indexOf(yOf(i)), num(result.rows[i]!.cells[m.key])], row: i }));
  const values = data.map((d) => (d.value as (number | null)[])[2]).filter((v): v is number => v !== null);
  return {
    tooltip: { trigger: 'item', confine: true },
    grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
    xAxis: { type: 'category', data: xs, splitArea: { show: true } },
    yAxis: { type: 'category', data: ys, splitArea: { show: true } },
    visualMap: {
      min: values.length ? Math.min(...values) : 0,
      max: values.length ? Math.max(...values) : 1,
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      formatter: (v: unknown) => formatMeasure(v, m, locale),
    },
    series: [
      {
        type: 'heatmap',
        name: columnLabel(mcol, result, c.def, locale, c.lookup),
        data,
        label: { show: xs.length * ys.length <= 60, formatter: (p: { value?: unknown }) => formatMeasure((p.value as unknown[] | undefined)?.[2], m, locale) },
        tooltip: { valueFormatter: (v: unknown) => formatMeasure(Array.isArray(v) ? v[2] : v, m, locale) },
      } as HeatmapSeriesOption,
    ],
  };
}

// ---------------------------------------------------------------------------------------
// Tables

export interface TableColumn {
  key: string;
  label: string;
  kind: 'dimension' | 'measure';
}

export interface TableRow {
  /** Index of the result row. */
  index: number;
  cells: Record<string, string>;
  rows: number;
  others: boolean;
  drill: unknown;
}

export interface TableModel {
  columns: TableColumn[];
  rows: TableRow[];
}

/** The result as text, one row per result row (dimensions, then measures). */
export function toTable(result: RunResult, def: ReportDefinition | null | undefined, locale: Locale, lookup?: FieldLookup): TableModel {
  const c: Ctx = { result, def, locale, lookup };
  const dims = dimensionColumns(result);
  const measures = measureColumns(result);
  const columns: TableColumn[] = [...dims, ...measures].map((col) => ({
    key: col.key,
    label: columnLabel(col, result, def, locale, lookup),
    kind: col.kind,
  }));
  const rows = result.rows.map((r, i) => {
    const cells: Record<string, string> = {};
    dims.forEach((col, d) => (cells[col.key] = dimText(c, i, [d])));
    for (const col of measures) cells[col.key] = formatMeasure(r.cells[col.key], measureOf(col, def), locale);
    return { index: i, cells, rows: r.rows, others: r.others === true, drill: r.drill };
  });
  return { columns, rows };
}

export interface PivotCell {
  text: string;
  /** Index of the result row. */
  row: number;
}

export interface PivotModel {
  /** Header of the row labels (the first dimension, and any beyond the second). */
  corner: string;
  /** Column headers: values of the second dimension, or (with several measures) the
   * measures under `group`, the value of the second dimension they belong to. */
  columns: { label: string; measure: string; group?: string }[];
  rows: { label: string; cells: (PivotCell | null)[] }[];
}

/** First dimension (and any beyond the second) as rows × second dimension as columns.
 * With fewer than two dimensions the measures are the columns. */
export function toPivot(result: RunResult, def: ReportDefinition | null | undefined, locale: Locale, lookup?: FieldLookup): PivotModel {
  const c: Ctx = { result, def, locale, lookup };
  const dims = dimensionColumns(result);
  const measures = measureColumns(result);
  const mLabels = measures.map((m) => columnLabel(m, result, def, locale, lookup));
  const rowDims = dims.length >= 2 ? [0, ...range(dims.length, 2)] : dims.length === 1 ? [0] : [];
  const rowKeys = distinct(range(result.rows.length).map((i) => dimText(c, i, rowDims)));
  const corner = rowDims.map((d) => columnLabel(dims[d]!, result, def, locale, lookup)).join(' / ');
  const text = (i: number, mi: number) => formatMeasure(result.rows[i]!.cells[measures[mi]!.key], measureOf(measures[mi]!, def), locale);
  if (dims.length < 2) {
    return {
      corner,
      columns: measures.map((m, mi) => ({ label: mLabels[mi]!, measure: m.key })),
      rows: rowKeys.map((label) => {
        const i = range(result.rows.length).find((j) => dimText(c, j, rowDims) === label)!;
        return { label, cells: measures.map((_, mi) => ({ text: text(i, mi), row: i })) };
      }),
    };
  }
  const colKeys = distinct(range(result.rows.length).map((i) => dimText(c, i, [1])));
  const cellAt = new Map<string, number>();
  for (const i of range(result.rows.length)) {
    const k = `${dimText(c, i, rowDims)}\u0000${dimText(c, i, [1])}`;
    if (!cellAt.has(k)) cellAt.set(k, i);
  }
  const several = measures.length > 1;
  const columns = colKeys.flatMap((ck) => measures.map((m, mi) => (several ? { group: ck, label: mLabels[mi]!, measure: m.key } : { label: ck, measure: m.key })));
  return {
    corner,
    columns,
    rows: rowKeys.map((rk) => ({
      label: rk,
      cells: colKeys.flatMap((ck) =>
        measures.map((_, mi) => {
          const i = cellAt.get(`${rk}\u0000${ck}`);
          return i === undefined ? null : { text: text(i, mi), row: i };
        }),
      ),
    })),
  };
}

export interface NumberCard {
  key: string;
  label: string;
  text: string;
}

/** Number cards: each measure of the first row. */
export function toNumberCards(result: RunResult, def: ReportDefinition | null | undefined, locale: Locale, lookup?: FieldLookup): NumberCard[] {
  const row = result.rows[0];
  return measureColumns(result).map((col) => ({
    key: col.key,
    label: columnLabel(col, result, def, locale, lookup),
    text: formatMeasure(row?.cells[col.key], measureOf(col, def), locale),
  }));
}

/** The drill-down filter behind a chart data item, if any: its measure's cell when that
 * measure counts some of the rows (`drills`), else its result row's. */
export function drillOf(result: RunResult, data: unknown): unknown {
  const item = data as { row?: unknown; measure?: unknown } | null;
  const row = item?.row;
  if (typeof row !== 'number') return undefined;
  return cellDrill(result, row, typeof item?.measure === 'string' ? item.measure : undefined);
}

/** The drill-down filter of the cell of `measure` in result row `row` (a table cell, a
 * pivot cell, a chart item): the cell's own when the server sent one (`drills`, a measure
 * over some of the rows, so "of which urgent" lists the urgent records), else the row's.
 * Without a measure (a dimension cell, the row itself): the row's. */
export function cellDrill(result: RunResult, row: number, measure?: string): unknown {
  const r = result.rows[row];
  const cell = measure === undefined ? undefined : r?.drills?.[measure];
  return cell ?? r?.drill;
}
