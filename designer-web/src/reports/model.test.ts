import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addToZone,
  addWidget,
  cellDrill,
  clampWidget,
  columnLabel,
  compileRow,
  dashboardsForRoles,
  layoutChanges,
  dateRange,
  dimKey,
  drillOf,
  emptyDraft,
  formatDimValue,
  formatMeasure,
  fromDefinition,
  issueTarget,
  mapWidgetFilter,
  measureLabel,
  measureOf,
  moveItem,
  overlaps,
  paletteFields,
  removeFromZone,
  removeSharedFilter,
  stackOrder,
  toChartOption,
  toDefinition,
  toNumberCards,
  toPivot,
  toTable,
  updateSharedFilter,
  updateFilter,
  updateMeasure,
  validateDashboard,
  validateDraft,
  widgetFilter,
  type DashboardDefinition,
  type FieldTypes,
  type PaletteField,
  type ReportDefinition,
  type RunResult,
} from './model.ts';

const def: ReportDefinition = {
  label: { en: 'Orders by month', 'zh-CN': '每月工单' },
  form: 'service_order',
  dimensions: [{ field: 'reported_at', bucket: 'month' }, { field: 'priority' }],
  measures: [
    { key: 'orders', agg: 'count', label: { en: 'Orders', 'zh-CN': '工单数' } },
    { key: 'first_time_fix', agg: 'share', where: { '!=': [{ var: 'second_handling' }, true] } },
    { key: 'p90_hours', agg: 'percentile', q: 0.9, duration: { from: 'reported_at', to: 'resolved_at', unit: 'hours' } },
  ],
  chart: { kind: 'bar', stacked: true },
};

const drill0 = { and: [{ '>=': [{ var: 'reported_at' }, '2026-03-01T00:00:00+08:00'] }] };
const result: RunResult = {
  report: 'orders_by_month',
  version: 2,
  form: 'service_order',
  columns: [
    { key: 'reported_at', kind: 'dimension', field: 'reported_at', bucket: 'month' },
    { key: 'priority', kind: 'dimension', field: 'priority' },
    { key: 'orders', kind: 'measure', agg: 'count', label: { en: 'Orders', 'zh-CN': '工单数' } },
    { key: 'first_time_fix', kind: 'measure', agg: 'share' },
  ],
  rows: [
    { cells: { 'reported_at': '2026-03', priority: 'high', orders: 12, first_time_fix: 0.8734 }, rows: 12, drill: drill0 },
    { cells: { 'reported_at': '2026-03', priority: 'low', orders: 3, first_time_fix: 1 }, rows: 3, drill: { x: 1 } },
    { cells: { 'reported_at': '2026-04', priority: 'high', orders: 5, first_time_fix: null }, rows: 5 },
    { cells: { 'reported_at': null, priority: 'low', orders: 2, first_time_fix: 0.5 }, rows: 2, others: true },
  ],
  withheld: [{ key: 'fees', field: 'service_fee' }],
  total_rows: 22,
};

const options = { high: { en: 'High', 'zh-CN': '高' }, low: { en: 'Low', 'zh-CN': '低' } };
const lookup = (p: string) => (p === 'priority' ? { label: { en: 'Priority', 'zh-CN': '优先级' }, options } : undefined);

describe('labels and formats', () => {
  it('labels dimensions and measures from their label, else the field name', () => {
    expect(columnLabel(result.columns[0]!, result, def, 'en')).toBe('reported_at (month)');
    expect(columnLabel(result.columns[1]!, result, def, 'en', lookup)).toBe('Priority');
    expect(columnLabel(result.columns[2]!, result, def, 'zh-CN')).toBe('工单数');
    expect(measureLabel({ key: 'fees', agg: 'sum', field: 'service_fee' }, 'en')).toBe('service_fee (Sum)');
    expect(measureLabel({ key: 'n', agg: 'count' }, 'zh-CN')).toBe('计数');
    expect(measureLabel({ key: 'urgent', agg: 'count', where: { '==': [{ var: 'priority' }, 'urgent'] } }, 'en')).toBe('urgent');
  });

  it('names dimension columns by key, else field (field:bucket when a field is bucketed twice)', () => {
    expect(dimKey({ field: 'priority' })).toBe('priority');
    expect(dimKey({ field: 'reported_at', bucket: 'month' })).toBe('reported_at');
    const two = [{ field: 'reported_at', bucket: 'month' as const }, { field: 'reported_at', bucket: 'year' as const }];
    expect(two.map((d) => dimKey(d, two))).toEqual(['reported_at:month', 'reported_at:year']);
    expect(dimKey({ field: 'satisfaction', bucket: { width: 10 } })).toBe('satisfaction');
    expect(dimKey({ field: 'satisfaction', bucket: { width: 10 }, key: 'band' })).toBe('band');
  });

  it('reads aggregation names spelled without underscores', () => {
    expect(measureOf({ key: 'n', kind: 'measure', agg: 'countdistinct' as never }).agg).toBe('count_distinct');
    expect(formatMeasure(1234.4, measureOf({ key: 'n', kind: 'measure', agg: 'countvalues' as never }), 'en')).toBe('1,234');
  });

  it('formats shares as percentages and durations with one decimal', () => {
    expect(formatMeasure(0.8734, { agg: 'share' }, 'en')).toBe('87.3%');
    expect(formatMeasure(12.345, def.measures[2]!, 'en')).toBe('12.3 h');
    expect(formatMeasure(12, def.measures[2]!, 'zh-CN')).toBe('12.0 小时');
    expect(formatMeasure(1234, { agg: 'count' }, 'en')).toBe('1,234');
    expect(formatMeasure(2.3456, { agg: 'avg' }, 'en')).toBe('2.35');
    expect(formatMeasure(null, { agg: 'sum' }, 'en')).toBe('—');
  });

  it('shows others, empty values, number bands and option labels', () => {
    expect(formatDimValue('x', { field: 'a' }, 'en', { others: true })).toBe('Others');
    expect(formatDimValue('x', { field: 'a' }, 'zh-CN', { others: true })).toBe('其他');
    expect(formatDimValue(null, { field: 'a' }, 'en')).toBe('(empty)');
    // A reference or member value shows the name the server sent.
    expect(formatDimValue(12, { field: 'customer' }, 'en', { name: '协和医院' })).toBe('协和医院');
    expect(formatDimValue(60, { field: 's', bucket: { width: 10 } }, 'en')).toBe('60–70');
    expect(formatDimValue('high', { field: 'priority' }, 'zh-CN', { lookup })).toBe('高');
  });
});

describe('charts', () => {
  it('a stacked bar: first dimension as categories, a series per value of the second', () => {
    const o = toChartOption(result, def, 'en', lookup)!;
    expect((o.xAxis as { data: string[] }).data).toEqual(['2026-03', '2026-04', 'Others']);
    const series = o.series as { name: string; stack?: string; type: string; data: ({ value: number; row: number } | null)[] }[];
    expect(series.map((s) => s.name)).toEqual(['High', 'Low']);
    expect(series.every((s) => s.type === 'bar' && s.stack === 'total')).toBe(true);
    expect(series[0]!.data).toEqual([{ value: 12, row: 0, measure: 'orders' }, { value: 5, row: 2, measure: 'orders' }, null]);
    expect(series[1]!.data).toEqual([{ value: 3, row: 1, measure: 'orders' }, null, { value: 2, row: 3, measure: 'orders' }]);
    expect(drillOf(result, series[0]!.data[0])).toBe(drill0);
  });

  it("a measure over some of the rows drills to its cell's records, others to the row's", () => {
    const cell = { and: [drill0, { '==': [{ var: 'kind' }, 'repair'] }] };
    const withCell: RunResult = { ...result, rows: result.rows.map((r, i) => (i === 0 ? { ...r, drills: { first_time_fix: cell } } : r)) };
    expect(drillOf(withCell, { row: 0, measure: 'first_time_fix' })).toBe(cell);
    expect(drillOf(withCell, { row: 0, measure: 'orders' })).toBe(drill0);
    expect(drillOf(withCell, { row: 0 })).toBe(drill0);
    expect(drillOf(withCell, { measure: 'first_time_fix' })).toBeUndefined();
  });

  it("a table or pivot cell drills to its cell's records when the server sent them, else to its row's", () => {
    const urgent = { and: [drill0, { '==': [{ var: 'priority' }, 'urgent'] }] };
    const withCell: RunResult = { ...result, rows: result.rows.map((r, i) => (i === 0 ? { ...r, drills: { first_time_fix: urgent } } : r)) };
    expect(cellDrill(withCell, 0, 'first_time_fix')).toBe(urgent);
    // Another measure of the row, a dimension, the row itself: the row's records.
    expect(cellDrill(withCell, 0, 'orders')).toBe(drill0);
    expect(cellDrill(withCell, 0, 'priority')).toBe(drill0);
    expect(cellDrill(withCell, 0)).toBe(drill0);
    expect(cellDrill(withCell, 1, 'first_time_fix')).toEqual({ x: 1 });
    // A row without a drill (its cells have none either), a row that is not there.
    expect(cellDrill(withCell, 2, 'first_time_fix')).toBeUndefined();
    expect(cellDrill(withCell, 9, 'orders')).toBeUndefined();
    // The pivot's columns name the measure of each cell.
    const p = toPivot(withCell, def, 'en', lookup);
    const ci = p.columns.findIndex((c) => c.group === 'High' && c.measure === 'first_time_fix');
    const cell = p.rows[0]!.cells[ci]!;
    expect(cellDrill(withCell, cell.row, p.columns[ci]!.measure)).toBe(urgent);
  });

  it('one dimension: a series per measure; horizontal swaps the axes', () => {
    const one: RunResult = { ...result, columns: result.columns.filter((c) => c.key !== 'priority') };
    const o = toChartOption(one, { ...def, chart: { kind: 'bar', horizontal: true } }, 'en')!;
    expect((o.yAxis as { type: string }).type).toBe('category');
    expect((o.xAxis as { type: string }).type).toBe('value');
    expect((o.series as { name: string }[]).map((s) => s.name)).toEqual(['Orders', 'first_time_fix']);
  });

  it('line and area', () => {
    const line = toChartOption(result, { ...def, chart: { kind: 'line' } }, 'en')!;
    expect((line.series as { type: string }[])[0]!.type).toBe('line');
    const area = toChartOption(result, { ...def, chart: { kind: 'area', stacked: true } }, 'en')!;
    const s = (area.series as { type: string; areaStyle?: object; stack?: string }[])[0]!;
    expect(s).toMatchObject({ type: 'line', areaStyle: {}, stack: 'total' });
  });

  it('pie and funnel slices name the dimensions and carry the row', () => {
    const pie = toChartOption(result, { ...def, chart: { kind: 'pie' } }, 'en', lookup)!;
    const data = (pie.series as { type: string; data: { name: string; value: number; row: number }[] }[])[0]!;
    expect(data.type).toBe('pie');
    expect(data.data[0]).toEqual({ name: '2026-03 / High', value: 12, row: 0 });
    expect(data.data[3]!.name).toBe('Others / Low');
    const funnel = toChartOption(result, { ...def, chart: { kind: 'funnel' } }, 'en')!;
    expect((funnel.series as { type: string }[])[0]!.type).toBe('funnel');
  });

  it('a heatmap of two dimensions', () => {
    const o = toChartOption(result, { ...def, chart: { kind: 'heatmap' } }, 'en', lookup)!;
    expect((o.xAxis as { data: string[] }).data).toEqual(['2026-03', '2026-04', 'Others']);
    expect((o.yAxis as { data: string[] }).data).toEqual(['High', 'Low']);
    const s = (o.series as { data: { value: number[]; row: number }[] }[])[0]!;
    expect(s.data[1]).toEqual({ value: [0, 1, 3], row: 1 });
    expect(o.visualMap).toMatchObject({ min: 2, max: 12 });
  });

  it('table, pivot and number kinds have no ECharts option', () => {
    for (const kind of ['table', 'pivot', 'number'] as const) expect(toChartOption(result, { ...def, chart: { kind } }, 'en')).toBeNull();
  });

  it('a pivot puts the first dimension in rows and the second in columns', () => {
    const p = toPivot({ ...result, columns: result.columns.filter((c) => c.key !== 'first_time_fix') }, def, 'en', lookup);
    expect(p.corner).toBe('reported_at (month)');
    expect(p.columns.map((c) => c.label)).toEqual(['High', 'Low']);
    expect(p.rows.map((r) => r.label)).toEqual(['2026-03', '2026-04', 'Others']);
    expect(p.rows[0]!.cells).toEqual([{ text: '12', row: 0 }, { text: '3', row: 1 }]);
    expect(p.rows[1]!.cells[1]).toBeNull();
    const two = toPivot(result, def, 'en', lookup);
    expect(two.columns.map((c) => `${c.group}/${c.label}`)).toEqual(['High/Orders', 'High/first_time_fix', 'Low/Orders', 'Low/first_time_fix']);
  });

  it('a table of formatted rows keeps drill and others', () => {
    const t = toTable(result, def, 'en', lookup);
    expect(t.columns.map((c) => c.key)).toEqual(['reported_at', 'priority', 'orders', 'first_time_fix']);
    expect(t.rows[0]!.cells).toEqual({ 'reported_at': '2026-03', priority: 'High', orders: '12', first_time_fix: '87.3%' });
    expect(t.rows[3]).toMatchObject({ others: true, drill: undefined, rows: 2 });
    expect(t.rows[3]!.cells['reported_at']).toBe('Others');
  });

  it('number cards show each measure of the first row', () => {
    const r: RunResult = { form: 'f', columns: [{ key: 'n', kind: 'measure', agg: 'count' }], rows: [{ cells: { n: 1234 }, rows: 1234 }] };
    expect(toNumberCards(r, null, 'en')).toEqual([{ key: 'n', label: 'Count', text: '1,234' }]);
  });
});

const fields: PaletteField[] = [
  ...paletteFields({
    properties: {
      reported_at: { 'x-type': 'datetime' },
      priority: { 'x-type': 'select', enum: ['high', 'low'] },
      service_fee: { 'x-type': 'money' },
      device: { 'x-type': 'reference', 'x-ref': { form: 'device', display: 'serial' } },
      photos: { 'x-type': 'attachment' },
    },
  }),
  ...paletteFields({ properties: { model: { 'x-type': 'text' } } }, 'device.product'),
];
const types: FieldTypes = (p) => fields.find((f) => f.path === p);

describe('report designer draft', () => {
  it('offers scalar fields, references with their target, joined paths', () => {
    expect(fields.map((f) => f.path)).toEqual(['reported_at', 'priority', 'service_fee', 'device', 'device.product.model']);
    expect(types('device')).toMatchObject({ ref: 'device', numeric: false });
    expect(types('service_fee')!.numeric).toBe(true);
  });

  it('adds fields to dimensions (dates by month), measures and filters', () => {
    let d = emptyDraft('service_order');
    d = addToZone(d, 'dimensions', types('reported_at')!);
    d = addToZone(d, 'dimensions', types('reported_at')!);
    d = addToZone(d, 'measures', null);
    d = addToZone(d, 'measures', types('service_fee')!);
    d = addToZone(d, 'measures', types('device.product.model')!, 0);
    d = addToZone(d, 'filters', types('priority')!);
    expect(d.def.dimensions).toEqual([
      { field: 'reported_at', bucket: 'month' },
      { field: 'reported_at', bucket: 'month', key: 'reported_at_month' },
    ]);
    expect(d.def.measures).toEqual([
      { key: 'device_product_model_count_distinct', agg: 'count_distinct', field: 'device.product.model' },
      { key: 'count', agg: 'count' },
      { key: 'service_fee_sum', agg: 'sum', field: 'service_fee' },
    ]);
    expect(d.filters).toEqual([{ field: 'priority', op: 'eq' }]);
  });

  it('moves items within and between zones; a count stays a measure', () => {
    let d = emptyDraft('f');
    d = addToZone(d, 'dimensions', types('priority')!);
    d = addToZone(d, 'measures', null);
    d = addToZone(d, 'measures', types('service_fee')!);
    const same = moveItem(d, { zone: 'measures', index: 1 }, { zone: 'measures', index: 0 }, types);
    expect(same.def.measures.map((m) => m.key)).toEqual(['service_fee_sum', 'count']);
    const toDim = moveItem(d, { zone: 'measures', index: 1 }, { zone: 'dimensions', index: 0 }, types);
    expect(toDim.def.dimensions.map((x) => x.field)).toEqual(['service_fee', 'priority']);
    expect(toDim.def.measures.map((m) => m.key)).toEqual(['count']);
    expect(moveItem(d, { zone: 'measures', index: 0 }, { zone: 'filters', index: 0 }, types)).toBe(d);
    const toFilter = moveItem(d, { zone: 'dimensions', index: 0 }, { zone: 'filters', index: 0 }, types);
    expect(toFilter.filters).toEqual([{ field: 'priority', op: 'eq' }]);
    expect(toFilter.def.dimensions).toEqual([]);
    expect(removeFromZone(d, 'measures', 0).def.measures.map((m) => m.key)).toEqual(['service_fee_sum']);
  });

  it('renaming a measure carries the key into sort and ratios', () => {
    const d = fromDefinition({
      form: 'f',
      dimensions: [],
      measures: [
        { key: 'fees', agg: 'sum', field: 'service_fee' },
        { key: 'orders', agg: 'count' },
        { key: 'fee_per_order', agg: 'ratio', of: ['fees', 'orders'] },
      ],
      sort: [{ by: 'orders', desc: true }],
    });
    const r = updateMeasure(d, 1, { key: 'n' });
    expect(r.def.measures[2]!.of).toEqual(['fees', 'n']);
    expect(r.def.sort).toEqual([{ by: 'n', desc: true }]);
  });

  it('filter rows round-trip to JSON Logic; other shapes are kept as they are', () => {
    const raw = { or: [{ '==': [{ var: 'a' }, 1] }, { '==': [{ var: 'b' }, 2] }] };
    const d = fromDefinition({
      form: 'f',
      filter: { and: [{ '!=': [{ var: 'status' }, 'cancelled'] }, { '==': [{ var: 'engineer' }, null] }, { in: [{ var: 'kind' }, ['repair', 'install']] }, raw] },
      dimensions: [],
      measures: [{ key: 'n', agg: 'count' }],
    });
    expect(d.filters).toEqual([
      { field: 'status', op: 'ne', value: 'cancelled' },
      { field: 'engineer', op: 'empty' },
      { field: 'kind', op: 'in', value: ['repair', 'install'] },
    ]);
    expect(d.rawFilter).toEqual(raw);
    const back = toDefinition(d);
    expect(back.filter).toEqual({
      and: [{ '!=': [{ var: 'status' }, 'cancelled'] }, { '==': [{ var: 'engineer' }, null] }, { in: [{ var: 'kind' }, ['repair', 'install']] }, raw],
    });
    expect(Object.keys(back)).toEqual(['form', 'filter', 'dimensions', 'measures']);
    expect(fromDefinition({ form: 'f', filter: { '!': { '==': [{ var: 'code' }, null] } }, dimensions: [], measures: [] }).filters).toEqual([{ field: 'code', op: 'notEmpty' }]);
    expect(fromDefinition({ form: 'f', filter: { '!': [{ '==': [{ var: 's' }, 'x'] }] }, dimensions: [], measures: [] }).filters).toEqual([{ field: 's', op: 'ne', value: 'x' }]);
    expect(compileRow({ field: 'qty', op: 'in', value: '1, 2,x' }, true)).toEqual({ in: [{ var: 'qty' }, [1, 2, 'x']] });
    expect(compileRow({ field: 'qty', op: 'gte' })).toBeNull();
    expect(toDefinition(emptyDraft('f')).filter).toBeUndefined();
  });

  it('every CRM report loads into the designer and saves back unchanged and valid', () => {
    const dir = join(import.meta.dirname, '../../../seed-apps/medical-device-crm/reports');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const def = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ReportDefinition;
      const draft = fromDefinition(def);
      expect(toDefinition(draft), f).toEqual(def);
      expect(validateDraft(draft), f).toEqual([]);
    }
  });

  it('an edited filter row is compiled again', () => {
    const d = fromDefinition({ form: 'f', filter: { '!': { '==': [{ var: 'code' }, null] } }, dimensions: [], measures: [] });
    expect(toDefinition(d).filter).toEqual({ '!': { '==': [{ var: 'code' }, null] } });
    expect(toDefinition(updateFilter(d, 0, { op: 'empty' })).filter).toEqual({ '==': [{ var: 'code' }, null] });
    expect(toDefinition(removeFromZone(d, 'filters', 0)).filter).toBeUndefined();
    const raw = fromDefinition({ form: 'f', filter: { or: [{ '==': [{ var: 'a' }, 1] }, { '==': [{ var: 'b' }, 2] }] }, dimensions: [], measures: [] });
    expect(toDefinition({ ...raw, rawFilter: undefined }).filter).toBeUndefined();
  });

  it('finds what the server would refuse, with pointers into the definition', () => {
    const d = fromDefinition({
      form: '',
      dimensions: [{ field: 'priority', bucket: 'month' }, { field: 'priority' }, { field: 'x', bucket: { width: 0 } }],
      measures: [
        { key: 'Bad Key', agg: 'count' },
        { key: 'priority', agg: 'sum', field: 'priority' },
        { key: 'p', agg: 'percentile', field: 'service_fee', q: 2 },
        { key: 's', agg: 'share' },
        { key: 'r', agg: 'ratio', of: ['r', 'nope'] },
        { key: 'avg', agg: 'avg' },
      ],
      sort: [{ by: 'missing' }],
      limit: 0,
      chart: { kind: 'heatmap' },
    });
    const issues = validateDraft({ ...d, filters: [{ field: 'priority', op: 'eq' }] }, types);
    expect(issues.map((i) => `${i.pointer} ${i.code}`)).toEqual([
      '/form form',
      '/dimensions/0/bucket bucketTime',
      '/dimensions/2/bucket bucketWidth',
      '/measures/0/key keyInvalid',
      '/measures/1/key keyDuplicate',
      '/measures/1/agg numeric',
      '/measures/2/q q',
      '/measures/3/where shareWhere',
      '/measures/4/of ratioOf',
      '/measures/5/field fieldMissing',
      '/sort/0/by sortBy',
      '/limit limit',
      '/filters/0 filterValue',
    ]);
    const ok = addToZone(addToZone(emptyDraft('f'), 'measures', null), 'dimensions', types('priority')!);
    expect(validateDraft(ok, types)).toEqual([]);
  });

  it('maps server pointers to designer places', () => {
    expect(issueTarget('/definition/measures/2/key')).toBe('measures/2');
    expect(issueTarget('/dimensions/0/field')).toBe('dimensions/0');
    expect(issueTarget('/definition/filter/and/0/==')).toBe('filter');
    expect(issueTarget('/filters/1')).toBe('filters/1');
    expect(issueTarget('/others')).toBe('limit');
    expect(issueTarget('')).toBe('');
  });
});

describe('dashboards', () => {
  const dash: DashboardDefinition = {
    label: { en: 'Service' },
    roles: ['service_manager', 'director'],
    filters: [{ key: 'period', type: 'date_range' }],
    widgets: [
      { report: 'orders_by_month', x: 0, y: 0, w: 6, h: 4, filters: { period: 'reported_at' } },
      { report: 'fees', x: 6, y: 0, w: 6, h: 4 },
    ],
  };

  it('takes moves and resizes from the layout grid, not its echoes', () => {
    const echo = dash.widgets.map((w, i) => ({ i: String(i), x: w.x, y: w.y, w: w.w, h: w.h }));
    expect(layoutChanges(dash.widgets, echo)).toEqual([]);
    const dragged = echo.map((l) => (l.i === '1' ? { ...l, x: 0, y: 4, w: 12, h: 6 } : l));
    expect(layoutChanges(dash.widgets, dragged)).toEqual([{ index: 1, patch: { x: 0, y: 4, w: 12, h: 6 } }]);
    expect(layoutChanges(dash.widgets, [{ i: '7', x: 0, y: 0, w: 1, h: 1 }])).toEqual([]);
  });

  it('turns the shared date range into each widget filter', () => {
    const values = { period: dateRange('2026-03-01', '2026-03-31') };
    expect(values.period).toEqual({ from: '2026-03-01', to: '2026-04-01' });
    expect(widgetFilter(dash, dash.widgets[0]!, values)).toEqual({
      and: [{ '>=': [{ var: 'reported_at' }, '2026-03-01'] }, { '<': [{ var: 'reported_at' }, '2026-04-01'] }],
    });
    expect(widgetFilter(dash, dash.widgets[1]!, values)).toBeUndefined();
    expect(widgetFilter(dash, dash.widgets[0]!, {})).toBeUndefined();
    const two: DashboardDefinition = { ...dash, filters: [...dash.filters!, { key: 'closed', type: 'date_range' }] };
    const w = { ...dash.widgets[0]!, filters: { period: 'reported_at', closed: 'resolved_at' } };
    const f = widgetFilter(two, w, { ...values, closed: dateRange('2026-01-01', '2026-12-31') }) as { and: unknown[] };
    expect(f.and).toHaveLength(2);
  });

  it('shows dashboards to their roles', () => {
    const list = [{ key: 'a', roles: ['sales'] }, { key: 'b', roles: ['director'] }, { key: 'c' }];
    expect(dashboardsForRoles(list, ['director', 'engineer']).map((d) => d.key)).toEqual(['b']);
  });

  it('keeps widgets in the 12-column grid and stacks them in reading order', () => {
    expect(clampWidget({ report: 'r', x: 10, y: -1, w: 6, h: 0 })).toEqual({ report: 'r', x: 6, y: 0, w: 6, h: 1 });
    const added = addWidget(dash, 'new');
    expect(added.widgets[2]).toEqual({ report: 'new', x: 0, y: 4, w: 6, h: 4 });
    expect(stackOrder([{ report: 'a', x: 6, y: 0, w: 6, h: 2 }, { report: 'b', x: 0, y: 2, w: 6, h: 2 }, { report: 'c', x: 0, y: 0, w: 6, h: 2 }])).toEqual([2, 0, 1]);
    expect(overlaps([dash.widgets[0]!, { report: 'x', x: 5, y: 3, w: 2, h: 2 }])).toEqual([[0, 1]]);
  });

  it('maps and unmaps shared filters; removing a filter removes its mappings', () => {
    const m = mapWidgetFilter(dash, 1, 'period', 'created_at');
    expect(m.widgets[1]!.filters).toEqual({ period: 'created_at' });
    const gone = removeSharedFilter(m, 'period');
    expect(gone.filters).toEqual([]);
    expect(gone.widgets.every((w) => w.filters === undefined)).toBe(true);
    expect(validateDashboard(m, ['orders_by_month', 'fees'])).toEqual([]);
    expect(validateDashboard(gone, ['orders_by_month']).map((i) => i.code)).toEqual(['report']);
    expect(validateDashboard({ ...dash, filters: [] }).map((i) => i.code)).toEqual(['filterUnknown']);
    const renamed = updateSharedFilter(m, 0, { key: 'when' });
    expect(renamed.filters![0]!.key).toBe('when');
    expect(renamed.widgets.map((w) => w.filters)).toEqual([{ when: 'reported_at' }, { when: 'created_at' }]);
  });
});
