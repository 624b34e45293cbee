import { describe, expect, it } from 'vitest';
import { andFilters, conditionLogic, defaultColumns, filterLogic, opsFor, parseUrlFilter } from './filters.ts';
import { fieldsOf } from '../forms/model.ts';

describe('list filters', () => {
  it('builds JSON Logic in the server subset', () => {
    expect(conditionLogic({ field: 'status', op: 'eq', value: 'closed' })).toEqual({ '==': [{ var: 'status' }, 'closed'] });
    expect(conditionLogic({ field: 'name', op: 'contains', value: '协和' })).toEqual({ in: ['协和', { var: 'name' }] });
    expect(conditionLogic({ field: 'serial', op: 'starts', value: 'SO-' })).toEqual({ starts_with: [{ var: 'serial' }, 'SO-'] });
    expect(conditionLogic({ field: 'qty', op: 'gte', value: 2 })).toEqual({ '>=': [{ var: 'qty' }, 2] });
    expect(conditionLogic({ field: 'engineer', op: 'empty' })).toEqual({ '==': [{ var: 'engineer' }, null] });
  });

  it('drops incomplete conditions and joins the rest with and', () => {
    expect(filterLogic([{ field: 'a', op: 'eq' }])).toBeUndefined();
    expect(filterLogic([{ field: 'a', op: 'eq', value: 'x' }])).toEqual({ '==': [{ var: 'a' }, 'x'] });
    expect(
      filterLogic([
        { field: 'a', op: 'eq', value: 'x' },
        { field: 'b', op: 'lt', value: 3 },
      ]),
    ).toEqual({ and: [{ '==': [{ var: 'a' }, 'x'] }, { '<': [{ var: 'b' }, 3] }] });
  });

  it('offers operators by field type', () => {
    expect(opsFor({ 'x-type': 'select' })).toEqual(['eq', 'ne', 'empty', 'notEmpty']);
    expect(opsFor({ 'x-type': 'money' })).toContain('gte');
    expect(opsFor({ 'x-type': 'text' })[0]).toBe('contains');
    expect(opsFor({ 'x-type': 'sub_table' })).toEqual(['empty', 'notEmpty']);
    expect(opsFor({ 'x-type': 'computed', type: 'number' })).toContain('lt');
  });

  it('picks readable default columns', () => {
    const fields = fieldsOf({
      properties: {
        notes: { 'x-type': 'long_text' },
        name: { 'x-type': 'text' },
        photos: { 'x-type': 'attachment' },
        kind: { 'x-type': 'select' },
      },
    });
    expect(defaultColumns(fields)).toEqual(['name', 'kind']);
  });

  it('reads a filter from the URL and ANDs it with the builder', () => {
    const drill = { and: [{ '>=': [{ var: 'reported_at' }, '2026-03-01T00:00:00+08:00'] }] };
    expect(parseUrlFilter(JSON.stringify(drill))).toEqual(drill);
    expect(parseUrlFilter(null)).toBeUndefined();
    expect(parseUrlFilter('{nope')).toBeUndefined();
    expect(parseUrlFilter('3')).toBeUndefined();
    const b = { '==': [{ var: 'a' }, 1] };
    expect(andFilters(drill, undefined)).toBe(drill);
    expect(andFilters(undefined, b)).toBe(b);
    expect(andFilters(drill, b)).toEqual({ and: [drill, b] });
  });
});
