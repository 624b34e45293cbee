import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compileWhere,
  fromDefinition,
  logicVars,
  paletteFields,
  parseWhere,
  parseWhereText,
  toDefinition,
  updateMeasure,
  validateDraft,
  type FieldTypes,
  type ReportDefinition,
  type WhereRows,
} from './model.ts';

const fields = paletteFields({
  properties: {
    priority: { 'x-type': 'select', enum: ['urgent', 'high', 'low'] },
    second_handling: { 'x-type': 'boolean' },
    satisfaction: { 'x-type': 'integer' },
    reported_at: { 'x-type': 'datetime' },
    engineer: { 'x-type': 'text' },
  },
});
const types: FieldTypes = (p) => fields.find((f) => f.path === p);

const eq = (field: string, value: unknown) => ({ '==': [{ var: field }, value] });
/** "Resolved within the SLA of its priority" (docs/reports.md): no rows can say it. */
const sla = {
  or: [
    { and: [eq('priority', 'urgent'), { '<=': [{ hours_between: [{ var: 'reported_at' }, { var: 'resolved_at' }] }, 4] }] },
    { and: [eq('priority', 'high'), { '<=': [{ hours_between: [{ var: 'reported_at' }, { var: 'resolved_at' }] }, 24] }] },
  ],
};

describe("a measure's where as condition rows", () => {
  it('reads comparisons, in, == null and != null, alone or joined by and / or', () => {
    expect(parseWhere(undefined)).toEqual({ join: 'and', rows: [] });
    expect(parseWhere(eq('priority', 'urgent'))).toEqual({ join: 'and', rows: [{ field: 'priority', op: 'eq', value: 'urgent' }] });
    expect(parseWhere({ '!=': [{ var: 'second_handling' }, true] })).toEqual({ join: 'and', rows: [{ field: 'second_handling', op: 'ne', value: true }] });
    expect(parseWhere({ or: [eq('engineer', null), { in: [{ var: 'priority' }, ['urgent', 'high']] }, { '<': [{ var: 'satisfaction' }, 80] }] })).toEqual({
      join: 'or',
      rows: [
        { field: 'engineer', op: 'empty' },
        { field: 'priority', op: 'in', value: ['urgent', 'high'] },
        { field: 'satisfaction', op: 'lt', value: 80 },
      ],
    });
    expect(parseWhere({ and: [{ '!=': [{ var: 'engineer' }, null] }, { '>=': [{ var: 'reported_at' }, '2026-01-01'] }] })).toEqual({
      join: 'and',
      rows: [
        { field: 'engineer', op: 'notEmpty' },
        { field: 'reported_at', op: 'gte', value: '2026-01-01' },
      ],
    });
  });

  it('compiles rows to the same JSON Logic: one condition bare, several joined, none absent', () => {
    const urgent: WhereRows = { join: 'and', rows: [{ field: 'priority', op: 'eq', value: 'urgent' }] };
    expect(compileWhere(urgent, types)).toEqual(eq('priority', 'urgent'));
    expect(compileWhere({ join: 'or', rows: [] }, types)).toBeUndefined();
    const two: WhereRows = {
      join: 'or',
      rows: [
        { field: 'engineer', op: 'empty' },
        { field: 'satisfaction', op: 'in', value: '1, 2' },
      ],
    };
    expect(compileWhere(two, types)).toEqual({ or: [eq('engineer', null), { in: [{ var: 'satisfaction' }, [1, 2]] }] });
    expect(compileWhere({ ...two, join: 'and' }, types)).toEqual({ and: [eq('engineer', null), { in: [{ var: 'satisfaction' }, [1, 2]] }] });
    // Incomplete rows (no field, no value) are left out until they are complete.
    const partial: WhereRows = { join: 'and', rows: [...urgent.rows, { field: '', op: 'eq' }, { field: 'satisfaction', op: 'gte' }] };
    expect(compileWhere(partial, types)).toEqual(eq('priority', 'urgent'));
  });

  it('what rows can say goes there and back unchanged', () => {
    for (const w of [
      eq('priority', 'urgent'),
      { '!=': [{ var: 'second_handling' }, true] },
      eq('engineer', null),
      { '<': [{ var: 'satisfaction' }, 80] },
      { in: [{ var: 'priority' }, ['urgent', 'high']] },
      { and: [eq('priority', 'urgent'), { '!=': [{ var: 'engineer' }, null] }] },
      { or: [eq('priority', 'urgent'), { '>': [{ var: 'satisfaction' }, 90] }] },
    ]) {
      const rows = parseWhere(w);
      expect(rows, JSON.stringify(w)).not.toBeNull();
      expect(compileWhere(rows!, types)).toEqual(w);
    }
  });

  it('what rows cannot say is not read into rows', () => {
    for (const w of [
      sla,
      { '<=': [{ hours_between: [{ var: 'reported_at' }, { var: 'resolved_at' }] }, 4] },
      { and: [eq('priority', 'urgent'), { or: [eq('engineer', null), eq('second_handling', true)] }] },
      { '<': [{ var: 'resolved_at' }, { var: 'due_at' }] },
      { '>=': [{ var: 'reported_at' }, { var: 'today' }] },
      { '<=': [1, { var: 'satisfaction' }, 5] },
      { or: [] },
      { '!': { in: [{ var: 'priority' }, ['urgent']] } },
      { '==': [{ var: 'priority' }, 'urgent'], '!=': [{ var: 'engineer' }, null] },
      true,
      'urgent',
    ]) {
      expect(parseWhere(w), JSON.stringify(w)).toBeNull();
    }
  });

  it('JSON text: empty is no condition, an object is JSON Logic, anything else is refused', () => {
    expect(parseWhereText('  ')).toEqual({ logic: undefined });
    expect(parseWhereText('{"==": [{"var": "priority"}, "urgent"]}')).toEqual({ logic: eq('priority', 'urgent') });
    expect(parseWhereText('{"==": [')).toBeNull();
    expect(parseWhereText('[1]')).toBeNull();
    expect(parseWhereText('3')).toBeNull();
  });

  it('finds the fields a condition names', () => {
    expect([...logicVars(sla)]).toEqual(['priority', 'reported_at', 'resolved_at']);
    expect([...logicVars({ '==': [{ var: 'device.product.model' }, 'X'] })]).toEqual(['device.product.model']);
  });
});

describe("a measure's where in the designer draft", () => {
  const def: ReportDefinition = {
    form: 'service_order',
    dimensions: [],
    measures: [
      { key: 'urgent', agg: 'count', where: { '!': { '!=': [{ var: 'priority' }, 'urgent'] } } },
      { key: 'in_sla', agg: 'share', where: sla },
    ],
  };

  it('a loaded where is saved back as it was until it is edited', () => {
    const d = fromDefinition(def);
    expect(toDefinition(d, types)).toEqual(def);
    expect(validateDraft(d, types)).toEqual([]);
  });

  it('edited rows are compiled into the where; the editor state is not saved', () => {
    const rows: WhereRows = { join: 'or', rows: [{ field: 'priority', op: 'eq', value: 'urgent' }, { field: 'priority', op: 'eq', value: 'high' }] };
    const d = updateMeasure(fromDefinition(def), 0, { whereEdit: { rows }, where: compileWhere(rows, types) });
    const saved = toDefinition(d, types);
    expect(saved.measures[0]).toEqual({ key: 'urgent', agg: 'count', where: { or: [eq('priority', 'urgent'), eq('priority', 'high')] } });
    expect(saved.measures[1]).toEqual(def.measures[1]);
    expect(validateDraft(d, types)).toEqual([]);
  });

  it('an incomplete row or text that is not JSON Logic is a problem of the measure', () => {
    const rows: WhereRows = { join: 'and', rows: [{ field: 'priority', op: 'eq', value: 'urgent' }, { field: 'satisfaction', op: 'gt' }] };
    let d = updateMeasure(fromDefinition(def), 0, { whereEdit: { rows }, where: compileWhere(rows, types) });
    expect(toDefinition(d, types).measures[0]!.where).toEqual(eq('priority', 'urgent'));
    expect(validateDraft(d, types).map((i) => `${i.pointer} ${i.code}`)).toEqual(['/measures/0/where whereRow']);
    // Text that is not JSON keeps the last where, and is reported.
    d = updateMeasure(fromDefinition(def), 1, { whereEdit: { json: '{"or": [' } });
    expect(toDefinition(d, types).measures[1]!.where).toEqual(sla);
    expect(validateDraft(d, types).map((i) => `${i.pointer} ${i.code}`)).toEqual(['/measures/1/where whereJson']);
  });
});

it('every where of the CRM reports is either rows that compile back to it, or kept as JSON', () => {
  const dir = join(import.meta.dirname, '../../../seed-apps/medical-device-crm/reports');
  let rows = 0;
  let json = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const def = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ReportDefinition;
    for (const m of def.measures.filter((x) => x.where !== undefined)) {
      const parsed = parseWhere(m.where);
      if (parsed) {
        rows++;
        expect(compileWhere(parsed), `${f} ${m.key}`).toEqual(m.where);
      } else json++;
    }
  }
  expect(rows).toBeGreaterThan(5);
  expect(json).toBeGreaterThan(0);
});
