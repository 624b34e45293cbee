import { describe, expect, test } from 'vitest';
import { condsLogic, contextVars, isLogicValue, logicVars, parseConds, parseGroup, type Cond } from './conditions.ts';
import { fromDefinition } from './definition.ts';
import { EVERY, crm } from './testFlows.ts';

describe('condition builder ↔ JSON Logic', () => {
  test('one condition', () => {
    const logic = condsLogic([{ var: 'record.priority', op: 'eq', value: 'urgent' }]);
    expect(logic).toEqual({ '==': [{ var: 'record.priority' }, 'urgent'] });
    expect(parseConds(logic)).toEqual([{ var: 'record.priority', op: 'eq', value: 'urgent' }]);
  });

  test('and of every operator round-trips', () => {
    const conds = [
      { var: 'record.priority', op: 'eq', value: 'urgent' },
      { var: 'record.status', op: 'ne', value: 'closed' },
      { var: 'record.labour_hours', op: 'gt', value: 2 },
      { var: 'record.labour_hours', op: 'gte', value: 2 },
      { var: 'record.satisfaction', op: 'lt', value: 3 },
      { var: 'record.satisfaction', op: 'lte', value: 3 },
      { var: 'record.kind', op: 'in', value: ['repair', 'installation'] },
      { var: 'record.engineer', op: 'empty' },
      { var: 'vars.approved_by', op: 'not_empty' },
      { var: 'task.outcome', op: 'eq', value: 'approved' },
    ] as const;
    const logic = condsLogic([...conds]);
    expect(logic).toEqual({
      and: [
        { '==': [{ var: 'record.priority' }, 'urgent'] },
        { '!=': [{ var: 'record.status' }, 'closed'] },
        { '>': [{ var: 'record.labour_hours' }, 2] },
        { '>=': [{ var: 'record.labour_hours' }, 2] },
        { '<': [{ var: 'record.satisfaction' }, 3] },
        { '<=': [{ var: 'record.satisfaction' }, 3] },
        { in: [{ var: 'record.kind' }, ['repair', 'installation']] },
        { '!': { var: 'record.engineer' } },
        { '!!': { var: 'vars.approved_by' } },
        { '==': [{ var: 'task.outcome' }, 'approved'] },
      ],
    });
    expect(parseConds(logic)).toEqual(conds);
  });

  test('none, and shapes the builder does not write', () => {
    expect(condsLogic([])).toBeUndefined();
    expect(parseConds(undefined)).toEqual([]);
    expect(parseConds({ or: [{ '==': [{ var: 'a' }, 1] }] })).toBeNull();
    expect(parseConds({ '==': [{ var: 'a' }, { var: 'b' }] })).toBeNull();
    expect(parseConds({ '==': [1, { var: 'b' }] })).toBeNull();
    expect(parseConds({ '!': [{ var: 'record.x' }] })).toEqual([{ var: 'record.x', op: 'empty' }]);
    expect(parseConds({ '===': [{ var: 'record.x' }, 1] })).toEqual([{ var: 'record.x', op: 'eq', value: 1 }]);
  });

  test('context variables and logic values', () => {
    const s = fromDefinition(EVERY);
    const vars = contextVars(['priority', 'status'], s);
    expect(vars).toContain('record.priority');
    expect(vars).toContain('vars.approved_by');
    expect(vars).toContain('vars.visit');
    expect(vars).toContain('vars.by_status');
    expect(vars).toContain('vars.by_status.body.rows');
    expect(vars).toContain('initiator');
    expect(isLogicValue({ var: 'record.customer' })).toBe(true);
    expect(isLogicValue({ '+': [1, 2] })).toBe(true);
    expect(isLogicValue({ sha256: 'x', name: 'y' })).toBe(false);
    expect(isLogicValue('urgent')).toBe(false);
    expect(logicVars(EVERY.trigger.condition)).toEqual(['record.priority', 'record.engineer']);
  });
});

describe('guards, queries, reject', () => {
  test('a query filter with context values on the value side round-trips through the builder', () => {
    const filter = crm('order_guard').nodes.find((n) => n.id === 'licences')!.filter;
    // plain conditions do not accept a variable as value …
    expect(parseConds(filter)).toBeNull();
    // … a filter does
    const conds = parseConds(filter, { varValues: true });
    expect(conds).toEqual([
      { var: 'customer', op: 'eq', value: { var: 'record.customer' } },
      { var: 'kind', op: 'eq', value: 'distribution_licence' },
      { var: 'review_status', op: 'eq', value: 'approved' },
      { var: 'expires_on', op: 'gte', value: { var: 'today' } },
    ]);
    expect(condsLogic(conds!)).toEqual(filter);
  });

  test('query results and today are context variables', () => {
    const vars = contextVars(['customer'], fromDefinition(crm('order_guard')));
    expect(vars).toContain('vars.licences');
    expect(vars).toContain('today');
    expect(vars).toContain('record.customer');
  });
});

test('conditions joined with or round-trip through the builder; nested groups stay JSON', () => {
  const conds: Cond[] = [
    { var: 'record.priority', op: 'eq', value: 'urgent' },
    { var: 'record.kind', op: 'in', value: ['repair', 'inspection'] },
  ];
  const logic = condsLogic(conds, 'or');
  expect(logic).toEqual({ or: [{ '==': [{ var: 'record.priority' }, 'urgent'] }, { in: [{ var: 'record.kind' }, ['repair', 'inspection']] }] });
  expect(parseGroup(logic)).toEqual({ conds, join: 'or' });
  expect(parseGroup(condsLogic(conds))).toEqual({ conds, join: 'and' });
  // one condition has no join; `parseConds` (and only) refuses an `or`
  expect(condsLogic([conds[0]!], 'or')).toEqual({ '==': [{ var: 'record.priority' }, 'urgent'] });
  expect(parseConds(logic)).toBeNull();
  expect(parseGroup({ or: [{ and: [{ '==': [{ var: 'a' }, 1] }] }] })).toBeNull();
});
