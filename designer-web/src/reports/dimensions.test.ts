import { describe, expect, it } from 'vitest';
import {
  addToZone,
  columnLabel,
  dimensionLabel,
  dimKey,
  formatDimValue,
  fromDefinition,
  itemField,
  paletteFields,
  setDimensionSource,
  toChartOption,
  toDefinition,
  toPivot,
  toTable,
  updateDimension,
  validateDraft,
  type FieldTypes,
  type ReportDefinition,
  type ReportDraft,
  type RunResult,
} from './model.ts';
import { definitionPaths } from './api.ts';

// Device age at failure, in years (the server's example).
const def: ReportDefinition = {
  form: 'service_order',
  dimensions: [
    { key: 'age_years', duration: { from: 'device.production_date', to: 'reported_at', unit: 'years' }, bucket: { width: 1 }, label: { en: 'Device age', 'zh-CN': '设备年龄' } },
    { field: 'priority' },
  ],
  measures: [{ key: 'failures', agg: 'count' }],
  chart: { kind: 'bar' },
};

const fields = [
  ...paletteFields({
    properties: {
      priority: { 'x-type': 'select', enum: ['urgent', 'high'] },
      reported_at: { 'x-type': 'datetime' },
      resolved_at: { 'x-type': 'datetime' },
      satisfaction: { 'x-type': 'integer' },
      device: { 'x-type': 'reference', 'x-ref': { form: 'device' } },
    },
  }),
  ...paletteFields({ properties: { production_date: { 'x-type': 'date' }, model: { 'x-type': 'text' } } }, 'device'),
];
const types: FieldTypes = (p) => fields.find((f) => f.path === p);
const codes = (d: ReportDraft) => validateDraft(d, types).map((i) => `${i.pointer} ${i.code}`);

describe('duration dimensions in the designer', () => {
  it('load and save back unchanged and valid', () => {
    const d = fromDefinition(def);
    expect(toDefinition(d, types)).toEqual(def);
    expect(codes(d)).toEqual([]);
    expect(definitionPaths(def)).toEqual(['device.production_date', 'reported_at', 'priority']);
  });

  it('are keyed by their key; without one they have no key and must get one', () => {
    expect(dimKey(def.dimensions[0]!, def.dimensions)).toBe('age_years');
    const keyless = updateDimension(fromDefinition(def), 0, { key: undefined });
    expect(dimKey(keyless.def.dimensions[0]!)).toBe('');
    expect(codes(keyless)).toEqual(['/dimensions/0/key durationKey']);
  });

  it('need two date fields, and bands rather than time buckets', () => {
    const d = fromDefinition(def);
    expect(codes(updateDimension(d, 0, { duration: { from: '', to: 'reported_at', unit: 'days' } }))).toEqual(['/dimensions/0/duration durationFields']);
    expect(codes(updateDimension(d, 0, { duration: { from: 'satisfaction', to: 'reported_at', unit: 'days' } }))).toEqual(['/dimensions/0/duration durationTypes']);
    expect(codes(updateDimension(d, 0, { bucket: 'month' }))).toEqual(['/dimensions/0/bucket durationBucket']);
    expect(codes(updateDimension(d, 0, { bucket: { width: 0 } }))).toEqual(['/dimensions/0/bucket bucketWidth']);
    expect(codes(updateDimension(d, 0, { field: 'reported_at' }))).toEqual(['/dimensions/0/duration durationExclusive']);
    // The band is optional.
    expect(codes(updateDimension(d, 0, { bucket: undefined }))).toEqual([]);
  });

  it('a field dimension turns into a duration from that date field, with a key of its own, and back', () => {
    let d = addToZone(fromDefinition({ ...def, dimensions: [] }), 'dimensions', types('device.production_date')!);
    expect(d.def.dimensions).toEqual([{ field: 'device.production_date', bucket: 'month' }]);
    d = setDimensionSource(d, 0, 'duration', fields);
    expect(d.def.dimensions).toEqual([{ duration: { from: 'device.production_date', to: 'reported_at', unit: 'days' }, key: 'duration_days' }]);
    expect(codes(d)).toEqual([]);
    expect(setDimensionSource(d, 0, 'duration', fields)).toBe(d);
    expect(itemField(d, 'dimensions', 0)).toBe('device.production_date');
    d = setDimensionSource(d, 0, 'field', fields);
    expect(d.def.dimensions).toEqual([{ field: 'device.production_date', bucket: 'month', key: 'duration_days' }]);
  });

  it('a non-date field dimension starts a duration between the first two date fields, keeping a band', () => {
    let d = addToZone(fromDefinition({ ...def, dimensions: [{ key: 'duration_days', field: 'priority' }] }), 'dimensions', types('satisfaction')!);
    d = updateDimension(d, 1, { bucket: { width: 10 } });
    d = setDimensionSource(d, 1, 'duration', fields);
    expect(d.def.dimensions[1]).toEqual({ duration: { from: 'reported_at', to: 'resolved_at', unit: 'days' }, bucket: { width: 10 }, key: 'duration_days_2' });
  });
});

describe('duration dimensions in a run', () => {
  const result: RunResult = {
    form: 'service_order',
    columns: [
      { key: 'age_years', kind: 'dimension', bucket: { width: 1 }, duration: { from: 'device.production_date', to: 'reported_at', unit: 'years' } },
      { key: 'failures', kind: 'measure', agg: 'count' },
    ],
    rows: [
      { cells: { age_years: 0, failures: 4 }, rows: 4 },
      { cells: { age_years: 3, failures: 7 }, rows: 7 },
      { cells: { age_years: null, failures: 1 }, rows: 1 },
    ],
  };
  const bare: ReportDefinition = { ...def, dimensions: [{ ...def.dimensions[0]!, label: undefined }], chart: { kind: 'bar' } };

  it('label the column from → to with the unit and band, and the values as bands with the unit', () => {
    expect(columnLabel(result.columns[0]!, result, bare, 'en')).toBe('device.production_date → reported_at (years, per 1)');
    expect(columnLabel(result.columns[0]!, result, def, 'zh-CN')).toBe('设备年龄');
    expect(dimensionLabel({ duration: { from: 'reported_at', to: 'resolved_at', unit: 'hours' } }, 'zh-CN')).toBe('reported_at → resolved_at (小时)');
    expect(formatDimValue(3, { duration: bare.dimensions[0]!.duration!, bucket: { width: 1 } }, 'en')).toBe('3–4 y');
    expect(formatDimValue(36, { duration: { from: 'a', to: 'b', unit: 'hours' } }, 'zh-CN')).toBe('36 小时');
    expect(formatDimValue(null, { duration: bare.dimensions[0]!.duration! }, 'en')).toBe('(empty)');
  });

  it('draw as charts, tables and pivots, without drill-down', () => {
    const o = toChartOption(result, bare, 'en')!;
    expect((o.xAxis as { data: string[] }).data).toEqual(['0–1 y', '3–4 y', '(empty)']);
    const table = toTable(result, bare, 'en');
    expect(table.rows.map((r) => [r.cells.age_years, r.drill])).toEqual([
      ['0–1 y', undefined],
      ['3–4 y', undefined],
      ['(empty)', undefined],
    ]);
    expect(toPivot(result, bare, 'en').rows.map((r) => r.label)).toEqual(['0–1 y', '3–4 y', '(empty)']);
  });

  it('a column without its duration takes it from the definition; without either it is its key', () => {
    const col = { key: 'age_years', kind: 'dimension' as const, bucket: { width: 1 } };
    const r2: RunResult = { ...result, columns: [col, result.columns[1]!] };
    expect(toTable(r2, bare, 'en').rows[1]!.cells.age_years).toBe('3–4 y');
    expect(toTable(r2, null, 'en').rows[1]!.cells.age_years).toBe('3–4');
    expect(toTable(r2, null, 'en').columns[0]!.label).toBe('age_years (per 1)');
  });
});
