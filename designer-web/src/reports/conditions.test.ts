import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DATE_CHOICES,
  PERIODS,
  compileRow,
  compileWhere,
  dateChoice,
  dateChoiceValue,
  fromDefinition,
  logicVars,
  parseCondition,
  parseRelativeDate,
  relativeDateLogic,
  updateFilter,
  paletteFields,
  parseWhere,
  parseWhereText,
  toDefinition,
  updateMeasure,
  validateDraft,
  type FieldTypes,
  type RelativeDate,
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
      { '>=': [{ var: 'reported_at' }, { var: 'today' }] },
      { and: [{ '>=': [{ var: 'reported_at' }, { start_of: ['month', { var: 'today' }] }] }, { '<': [{ var: 'reported_at' }, { add_days: [{ var: 'today' }, -7] }] }] },
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
      { '>=': [{ var: 'reported_at' }, { add_days: [{ var: 'resolved_at' }, 3] }] },
      { '>=': [{ var: 'reported_at' }, { start_of: ['decade', { var: 'today' }] }] },
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

  it('finds the fields a condition names (today is a date, not a field)', () => {
    expect([...logicVars(sla)]).toEqual(['priority', 'reported_at', 'resolved_at']);
    expect([...logicVars({ '>=': [{ var: 'expires_on' }, { start_of: ['year', { var: 'today' }] }] })]).toEqual(['expires_on']);
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

describe('relative dates in conditions', () => {
  const today = { var: 'today' };
  const cases: [unknown, RelativeDate][] = [
    [today, { kind: 'today' }],
    [{ add_days: [today, 183] }, { kind: 'days', days: 183 }],
    [{ add_days: [today, -7] }, { kind: 'days', days: -7 }],
    [{ start_of: ['week', today] }, { kind: 'startOf', period: 'week' }],
    [{ start_of: ['month', today] }, { kind: 'startOf', period: 'month' }],
    [{ start_of: ['quarter', today] }, { kind: 'startOf', period: 'quarter' }],
    [{ start_of: ['year', today] }, { kind: 'startOf', period: 'year' }],
  ];

  it('reads today, today ± n days and the start of this week, month, quarter or year, and writes them back', () => {
    for (const [logic, r] of cases) {
      expect(parseRelativeDate(logic), JSON.stringify(logic)).toEqual(r);
      expect(relativeDateLogic(r)).toEqual(logic);
    }
    expect(PERIODS.map((period) => relativeDateLogic({ kind: 'startOf', period }))).toEqual(PERIODS.map((p) => ({ start_of: [p, today] })));
  });

  it('other shapes are not relative dates', () => {
    for (const v of [
      '2026-01-01',
      { var: 'reported_at' },
      { add_days: [today, 1.5] },
      { add_days: [today, '7'] },
      { add_days: [{ var: 'reported_at' }, 7] },
      { add_days: [today] },
      { start_of: ['day', today] },
      { start_of: ['month', '2026-05-17'] },
      { start_of: ['month', today], add_days: [today, 1] },
      null,
      [today],
    ]) {
      expect(parseRelativeDate(v), JSON.stringify(v)).toBeNull();
    }
  });

  it("the value picker's choices: a date picked, or which relative date", () => {
    expect(DATE_CHOICES).toEqual(['date', 'today', 'days', 'startOf.week', 'startOf.month', 'startOf.quarter', 'startOf.year']);
    expect(cases.map(([logic]) => dateChoice(logic))).toEqual(['today', 'days', 'days', 'startOf.week', 'startOf.month', 'startOf.quarter', 'startOf.year']);
    expect(dateChoice('2026-05-17')).toBe('date');
    expect(dateChoice(undefined)).toBe('date');
    expect(dateChoiceValue('date', today)).toBeUndefined();
    expect(dateChoiceValue('today', '2026-05-17')).toEqual(today);
    expect(dateChoiceValue('days', today)).toEqual({ add_days: [today, 7] });
    expect(dateChoiceValue('days', { add_days: [today, -30] })).toEqual({ add_days: [today, -30] });
    expect(dateChoiceValue('startOf.quarter', today)).toEqual({ start_of: ['quarter', today] });
    // Every choice's value is read back as that choice.
    for (const c of DATE_CHOICES.filter((x) => x !== 'date')) expect(dateChoice(dateChoiceValue(c, undefined))).toBe(c);
  });

  it('a comparison with a relative date is a row, in the report filter and in a where, and compiles back', () => {
    for (const [value] of cases) {
      const logic = { '>=': [{ var: 'reported_at' }, value] };
      expect(parseCondition(logic)).toEqual({ field: 'reported_at', op: 'gte', value });
      expect(compileRow(parseCondition(logic)!)).toEqual(logic);
      expect(parseWhere(logic)).toEqual({ join: 'and', rows: [{ field: 'reported_at', op: 'gte', value }] });
    }
    // `in` takes plain values only.
    expect(parseCondition({ in: [{ var: 'reported_at' }, [today]] })).toBeNull();
  });

  it('a report filter "this month so far" loads into rows and saves back unchanged', () => {
    const filter = {
      and: [{ '>=': [{ var: 'reported_at' }, { start_of: ['month', today] }] }, { '<': [{ var: 'reported_at' }, { add_days: [today, 1] }] }],
    };
    const def: ReportDefinition = { form: 'service_order', filter, dimensions: [], measures: [{ key: 'n', agg: 'count' }] };
    const d = fromDefinition(def);
    expect(d.rawFilter).toBeUndefined();
    expect(d.filters).toEqual([
      { field: 'reported_at', op: 'gte', value: { start_of: ['month', today] } },
      { field: 'reported_at', op: 'lt', value: { add_days: [today, 1] } },
    ]);
    expect(toDefinition(d, types)).toEqual(def);
    expect(validateDraft(d, types)).toEqual([]);
    // Changing the value to another relative date compiles it.
    const week = updateFilter(d, 0, { value: relativeDateLogic({ kind: 'startOf', period: 'week' }) });
    expect(toDefinition(week, types).filter).toEqual({ and: [{ '>=': [{ var: 'reported_at' }, { start_of: ['week', today] }] }, filter.and[1]] });
  });

  it('the CRM report of qualifications expiring in six months loads its whole filter into rows', () => {
    const file = join(import.meta.dirname, '../../../seed-apps/medical-device-crm/reports/qualifications_expiring.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as ReportDefinition;
    const d = fromDefinition(def);
    expect(d.rawFilter).toBeUndefined();
    expect(d.filters.map((r) => r.value)).toEqual(['approved', today, { add_days: [today, 183] }]);
    expect(toDefinition(d)).toEqual(def);
  });
});
