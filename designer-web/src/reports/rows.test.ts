import { describe, expect, it } from 'vitest';
import { fromDefinition, paletteFields, rowPaletteFields, subTables, toDefinition } from './draft.ts';
import { issueTarget } from './validate.ts';

const order = {
  properties: {
    on: { type: 'string', 'x-type': 'date' },
    device: { type: 'integer', 'x-type': 'reference', 'x-ref': { form: 'device' } },
    notes: { type: 'string', 'x-type': 'long_text' },
    lines: {
      type: 'array',
      'x-type': 'sub_table',
      'x-label': { en: 'Parts used' },
      items: {
        type: 'object',
        properties: {
          part: { type: 'integer', 'x-type': 'reference', 'x-ref': { form: 'spare_part' } },
          qty: { type: 'integer', 'x-type': 'integer' },
        },
      },
    },
  },
};

describe('reports over the rows of a sub-table', () => {
  it('offers the sub-tables, and the rows with their record’s fields in the palette', () => {
    expect(subTables(order)).toEqual([{ key: 'lines', label: { en: 'Parts used' } }]);
    expect(subTables({ properties: {} })).toEqual([]);
    // The records: no sub-table columns.
    expect(paletteFields(order).map((f) => f.path)).toEqual(['on', 'device']);
    const rows = rowPaletteFields(order, 'lines');
    expect(rows.map((f) => f.path)).toEqual(['on', 'device', 'lines.part', 'lines.qty']);
    // A reference column of the rows expands like a reference field.
    expect(rows.find((f) => f.path === 'lines.part')?.ref).toBe('spare_part');
    expect(rows.find((f) => f.path === 'lines.qty')?.numeric).toBe(true);
    expect(rowPaletteFields(order, 'nope').map((f) => f.path)).toEqual(['on', 'device']);
  });

  it('saves rows after the form and reads it back; server problems of rows go to its select', () => {
    const def = { form: 'order', rows: 'lines', dimensions: [{ field: 'lines.part' }], measures: [{ key: 'n', agg: 'count' as const }] };
    const back = toDefinition(fromDefinition(def));
    expect(back).toEqual(def);
    expect(Object.keys(back)).toEqual(['form', 'rows', 'dimensions', 'measures']);
    expect(Object.keys(toDefinition(fromDefinition({ ...def, rows: undefined })))).toEqual(['form', 'dimensions', 'measures']);
    expect(issueTarget('/definition/rows')).toBe('rows');
  });
});
