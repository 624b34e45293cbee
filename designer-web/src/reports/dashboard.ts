// Dashboards: which ones a user's home page shows, the shared filters (date ranges and
// choices of values) as each widget's run filter, and the 12-column grid the builder
// edits. Pure.
import { addDays } from '../forms/model.ts';
import { isTextValued, type ResolvedField } from './dashboardFilters.ts';
import type { Issue } from './draft.ts';
import { COLUMN_KEY_RE, isTemporal, uniqueKey } from './draft.ts';
import type { DashboardDefinition, DashboardFilter, DashboardSummary, Widget } from './types.ts';

export const GRID_COLUMNS = 12;
/** Height of one grid row in pixels. */
export const GRID_ROW_PX = 80;

/** A date range: `from` included, `to` excluded, both `YYYY-MM-DD`. A plain date compares
 * against date-time fields as local midnight in the app's time zone (server-side). */
export interface DateRange {
  from: string;
  to: string;
}

/** Shared filter values by filter key: a date range's range, a choice filter's values. */
export type FilterValues = Record<string, DateRange | string[] | undefined>;

/** The range of the days `first` to `last`, both included. */
export function dateRange(first: string, last: string): DateRange {
  return { from: first, to: addDays(last, 1) ?? last };
}

/** `field` in `[from, to)`. */
export function rangeLogic(field: string, r: DateRange): unknown {
  return { and: [{ '>=': [{ var: field }, r.from] }, { '<': [{ var: field }, r.to] }] };
}

/** `field` is one of `values`. */
export function inLogic(field: string, values: string[]): unknown {
  return { in: [{ var: field }, values] };
}

/** The run filter of a widget: every shared filter with a value (a range, at least one
 * chosen value) that the widget maps to a field of its report's form, ANDed; undefined
 * when none applies. */
export function widgetFilter(dash: Pick<DashboardDefinition, 'filters'>, widget: Widget, values: FilterValues): unknown {
  const parts: unknown[] = [];
  for (const f of dash.filters ?? []) {
    const field = widget.filters?.[f.key];
    const v = values[f.key];
    if (!field || !v) continue;
    if (f.type === 'date_range' && !Array.isArray(v)) parts.push(rangeLogic(field, v));
    if (f.type === 'select' && Array.isArray(v) && v.length > 0) parts.push(inLogic(field, v));
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { and: parts };
}

/** The dashboards whose roles include one of `roles`, in list order. */
export function dashboardsForRoles<T extends Pick<DashboardSummary, 'roles'>>(list: T[], roles: string[]): T[] {
  return list.filter((d) => (d.roles ?? []).some((r) => roles.includes(r)));
}

function int(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : fallback;
}

/** A widget kept inside the grid: 0 ≤ x, 1 ≤ w, x + w ≤ 12, 0 ≤ y, 1 ≤ h. */
export function clampWidget(w: Widget): Widget {
  const width = Math.max(1, Math.min(GRID_COLUMNS, int(w.w, 6)));
  const x = Math.max(0, Math.min(GRID_COLUMNS - width, int(w.x, 0)));
  return { ...w, x, w: width, y: Math.max(0, int(w.y, 0)), h: Math.max(1, int(w.h, 4)) };
}

/** The first grid row below every widget. */
export function bottom(widgets: Widget[]): number {
  return widgets.reduce((b, w) => Math.max(b, w.y + w.h), 0);
}

export function addWidget(def: DashboardDefinition, report: string): DashboardDefinition {
  const widget: Widget = { report, x: 0, y: bottom(def.widgets), w: 6, h: 4 };
  return { ...def, widgets: [...def.widgets, widget] };
}

export function updateWidget(def: DashboardDefinition, index: number, patch: Partial<Widget>): DashboardDefinition {
  return { ...def, widgets: def.widgets.map((w, i) => (i === index ? clampWidget({ ...w, ...patch }) : w)) };
}

export function removeWidget(def: DashboardDefinition, index: number): DashboardDefinition {
  return { ...def, widgets: def.widgets.filter((_, i) => i !== index) };
}

/** Map (or, with an empty field, unmap) a shared filter to a field of a widget's form. */
export function mapWidgetFilter(def: DashboardDefinition, index: number, filter: string, field: string | undefined): DashboardDefinition {
  return {
    ...def,
    widgets: def.widgets.map((w, i) => {
      if (i !== index) return w;
      const filters = { ...w.filters };
      if (field) filters[filter] = field;
      else delete filters[filter];
      const { filters: _old, ...rest } = w;
      void _old;
      return Object.keys(filters).length ? { ...rest, filters } : rest;
    }),
  };
}

export function addSharedFilter(def: DashboardDefinition): DashboardDefinition {
  const filters = def.filters ?? [];
  const key = uniqueKey('period', filters.map((f) => f.key));
  return { ...def, filters: [...filters, { key, type: 'date_range', label: { 'zh-CN': '期间', en: 'Period' } }] };
}

/** A new choice filter (`select`); the builder has its key and label edited. */
export function addChoiceFilter(def: DashboardDefinition): DashboardDefinition {
  const filters = def.filters ?? [];
  const key = uniqueKey('choice', filters.map((f) => f.key));
  return { ...def, filters: [...filters, { key, type: 'select', label: { 'zh-CN': '选项', en: 'Choice' } }] };
}

/** Remove a shared filter and every widget's mapping of it. */
export function removeSharedFilter(def: DashboardDefinition, key: string): DashboardDefinition {
  let next: DashboardDefinition = { ...def, filters: (def.filters ?? []).filter((f) => f.key !== key) };
  def.widgets.forEach((_, i) => (next = mapWidgetFilter(next, i, key, undefined)));
  return next;
}

/** Change a shared filter; a new key is carried into every widget's mapping. */
export function updateSharedFilter(def: DashboardDefinition, index: number, patch: Partial<DashboardFilter>): DashboardDefinition {
  const old = def.filters?.[index];
  if (!old) return def;
  const next = { ...old, ...patch };
  if (next.label === undefined) delete next.label;
  const filters = (def.filters ?? []).map((f, i) => (i === index ? next : f));
  const widgets =
    next.key === old.key
      ? def.widgets
      : def.widgets.map((w) => {
          if (!w.filters || !(old.key in w.filters)) return w;
          const { [old.key]: field, ...rest } = w.filters;
          return { ...w, filters: { ...rest, [next.key]: field! } };
        });
  return { ...def, filters, widgets };
}

/** Widget indexes in reading order (by row, then column): the order on a phone. */
export function stackOrder(widgets: Widget[]): number[] {
  return widgets.map((_, i) => i).sort((a, b) => widgets[a]!.y - widgets[b]!.y || widgets[a]!.x - widgets[b]!.x || a - b);
}

function overlap(a: Widget, b: Widget): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Pairs of widgets that cover the same cells. */
export function overlaps(widgets: Widget[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < widgets.length; i++) for (let j = i + 1; j < widgets.length; j++) if (overlap(widgets[i]!, widgets[j]!)) out.push([i, j]);
  return out;
}

/** CSS grid placement of a widget. */
export function gridArea(w: Widget): { gridColumn: string; gridRow: string } {
  return { gridColumn: `${w.x + 1} / span ${w.w}`, gridRow: `${w.y + 1} / span ${w.h}` };
}

/** The field a path of a report's form names (undefined while its form is not loaded). */
export type FieldResolver = (report: string, path: string) => ResolvedField | undefined;

/** Problems of a dashboard before saving: filter keys and types, widgets outside the grid
 * or overlapping, unknown reports, mappings of filters that do not exist, and (given
 * `fields`) a choice filter mapped to a field that is not text, a date range to one that
 * is not a date. */
export function validateDashboard(def: DashboardDefinition, reports?: string[], fields?: FieldResolver): Issue[] {
  const out: Issue[] = [];
  const keys = new Set<string>();
  (def.filters ?? []).forEach((f, i) => {
    if (!COLUMN_KEY_RE.test(f.key)) out.push({ pointer: `/filters/${i}/key`, code: 'keyInvalid', vars: { key: f.key } });
    if (keys.has(f.key)) out.push({ pointer: `/filters/${i}/key`, code: 'keyDuplicate', vars: { key: f.key } });
    if (f.type !== 'date_range' && f.type !== 'select') out.push({ pointer: `/filters/${i}/type`, code: 'filterType', vars: { type: String(f.type) } });
    keys.add(f.key);
  });
  const kinds = new Map((def.filters ?? []).map((f) => [f.key, f.type]));
  def.widgets.forEach((w, i) => {
    const p = `/widgets/${i}`;
    if (!w.report || (reports && !reports.includes(w.report))) out.push({ pointer: `${p}/report`, code: 'report', vars: { report: w.report } });
    const c = clampWidget(w);
    if (c.x !== w.x || c.y !== w.y || c.w !== w.w || c.h !== w.h) out.push({ pointer: p, code: 'grid' });
    for (const [k, path] of Object.entries(w.filters ?? {})) {
      if (!keys.has(k)) {
        out.push({ pointer: `${p}/filters/${k}`, code: 'filterUnknown', vars: { filter: k } });
        continue;
      }
      const field = fields?.(w.report, path);
      if (!field) continue;
      if (kinds.get(k) === 'select' && !isTextValued(field)) out.push({ pointer: `${p}/filters/${k}`, code: 'filterNotText', vars: { filter: k, field: path } });
      if (kinds.get(k) === 'date_range' && !isTemporal(field.type)) out.push({ pointer: `${p}/filters/${k}`, code: 'filterNotDate', vars: { filter: k, field: path } });
    }
  });
  for (const [a, b] of overlaps(def.widgets)) out.push({ pointer: `/widgets/${b}`, code: 'overlap', vars: { other: a + 1 } });
  return out;
}

/** The widget changes a layout from the grid asks for (none when it only echoes them). */
export function layoutChanges(widgets: Widget[], layout: readonly { i: string; x: number; y: number; w: number; h: number }[]): { index: number; patch: Pick<Widget, 'x' | 'y' | 'w' | 'h'> }[] {
  const out: { index: number; patch: Pick<Widget, 'x' | 'y' | 'w' | 'h'> }[] = [];
  for (const item of layout) {
    const index = Number(item.i);
    const w = widgets[index];
    if (!w || !Number.isInteger(index)) continue;
    if (w.x !== item.x || w.y !== item.y || w.w !== item.w || w.h !== item.h) {
      out.push({ index, patch: { x: item.x, y: item.y, w: item.w, h: item.h } });
    }
  }
  return out;
}
