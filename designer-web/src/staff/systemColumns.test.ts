import { describe, expect, it } from 'vitest';
import type { RecordItem } from '../api/types.ts';
import { fieldsOf } from '../forms/model.ts';
import { translate } from '../i18n/core.ts';
import { messages } from '../i18n/messages.ts';
import { conditionLogic, opsFor } from './filters.ts';
import { describeCondition, describeSort } from './listText.ts';
import {
  SYSTEM_COLUMNS,
  fieldColumns,
  filterFields,
  isSystemColumn,
  isSystemTimestamp,
  listColumns,
  systemText,
  timestampFilterValue,
  timestampText,
} from './systemColumns.ts';
import { differsFromView, listFromSpec, specFromList, splitFilter, type ListState } from './views.ts';

const record: RecordItem = {
  id: 7,
  form_version: 1,
  row_version: 3,
  created_at: '2026-03-01T08:00:00Z',
  created_by: 'engineer1',
  updated_at: '2026-03-02T09:30:00Z',
  updated_by: 'manager_east',
  owner: 'engineer1',
  data: { serial: 'SO-1' },
} as RecordItem;

const en = (k: string, v?: Record<string, string | number>) => translate(messages, 'en', k, v);
const zh = (k: string, v?: Record<string, string | number>) => translate(messages, 'zh-CN', k, v);

describe('system columns', () => {
  it('are the server’s names for the record columns staff care about', () => {
    expect([...SYSTEM_COLUMNS]).toEqual(['_created_at', '_created_by', '_updated_at', '_updated_by', '_owner']);
    expect(isSystemColumn('_created_at')).toBe(true);
    expect(isSystemColumn('created_at')).toBe(false);
    expect(isSystemColumn('_id')).toBe(false);
  });

  it('follow the form’s fields in the column choice, labelled in both languages', () => {
    const cols = listColumns(fieldsOf({ properties: { serial: { 'x-type': 'serial', type: 'string' } } }));
    expect(cols.map((c) => c.key)).toEqual(['serial', ...SYSTEM_COLUMNS]);
    for (const c of cols.slice(1)) {
      expect(c.schema['x-label']['zh-CN']).toBeTruthy();
      expect(c.schema['x-label'].en).toBeTruthy();
    }
  });

  it('never go into the list API’s fields parameter', () => {
    expect(fieldColumns(['serial', '_created_at', 'status', '_owner'])).toEqual(['serial', 'status']);
  });

  it('read their values from the record itself', () => {
    expect(systemText(record, '_created_by', 'en')).toBe('engineer1');
    expect(systemText(record, '_updated_by', 'en')).toBe('manager_east');
    expect(systemText(record, '_owner', 'en')).toBe('engineer1');
    const at = systemText(record, '_updated_at', 'en');
    expect(at).toBe(new Date('2026-03-02T09:30:00Z').toLocaleString('en', { dateStyle: 'short', timeStyle: 'medium' }));
    expect(systemText({ ...record, owner: '' } as RecordItem, '_owner', 'en')).toBe('');
  });

  it('name sort keys by their labels', () => {
    const byKey = new Map(listColumns([]).map((f) => [f.key, f]));
    expect(describeSort('-_created_at,_owner', byKey, en, 'en')).toBe('Created at descending, Record owner ascending');
    expect(describeSort('_updated_by', byKey, zh, 'zh-CN')).toBe('修改人 升序');
  });
});

describe('system columns in the filter builder', () => {
  const fields = fieldsOf({
    properties: {
      serial: { 'x-type': 'serial', type: 'string' },
      reported_at: { 'x-type': 'datetime', type: 'string', 'x-label': { 'zh-CN': '报修时间', en: 'Reported at' } },
      labour_hours: { 'x-type': 'number', type: 'number' },
      engineer: { 'x-type': 'member', type: 'string' },
    },
  });
  const offered = filterFields(fields);
  const byKey = new Map(offered.map((f) => [f.key, f]));
  const field = (k: string) => byKey.get(k)!;

  it('are offered after the form’s fields: the record id, then the list’s system columns', () => {
    expect(offered.map((f) => f.key)).toEqual([
      'serial',
      'reported_at',
      'labour_hours',
      'engineer',
      '_id',
      '_created_at',
      '_created_by',
      '_updated_at',
      '_updated_by',
      '_owner',
    ]);
    for (const f of offered.slice(4)) {
      expect(f.schema['x-label']['zh-CN'], f.key).toBeTruthy();
      expect(f.schema['x-label'].en, f.key).toBeTruthy();
    }
    expect(field('_created_at').schema['x-label']).toEqual({ 'zh-CN': '创建时间', en: 'Created at' });
    expect(field('_updated_at').schema['x-label'].en).toBe('Updated at');
  });

  it('get the operators of their kind of field: timestamps those of a date-time field', () => {
    expect(opsFor(field('_created_at').schema)).toEqual(opsFor(field('reported_at').schema));
    expect(opsFor(field('_updated_at').schema)).toEqual(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'notEmpty']);
    expect(opsFor(field('_id').schema)).toEqual(opsFor(field('labour_hours').schema));
    expect(opsFor(field('_owner').schema)).toEqual(opsFor(field('engineer').schema));
    expect(isSystemTimestamp('_created_at')).toBe(true);
    expect(isSystemTimestamp('_updated_at')).toBe(true);
    expect(isSystemTimestamp('reported_at')).toBe(false);
    expect(isSystemTimestamp('_created_by')).toBe(false);
  });

  it('compare a picked moment written as the server writes its timestamps (UTC, milliseconds)', () => {
    const picked = new Date(Date.UTC(2026, 2, 1, 0, 0, 0));
    const value = timestampFilterValue(picked);
    expect(value).toBe('2026-03-01T00:00:00.000Z');
    // Text order is time order against stored values such as record.created_at.
    expect(record.created_at > value).toBe(true);
    expect(conditionLogic({ field: '_created_at', op: 'gte', value })).toEqual({ '>=': [{ var: '_created_at' }, value] });
    expect(conditionLogic({ field: '_id', op: 'lt', value: 100 })).toEqual({ '<': [{ var: '_id' }, 100] });
    expect(conditionLogic({ field: '_owner', op: 'eq', value: 'engineer1' })).toEqual({ '==': [{ var: '_owner' }, 'engineer1'] });
  });

  it('come back from a saved view as builder conditions, not as a filter the builder cannot show', () => {
    const state: ListState = {
      extra: undefined,
      conditions: [
        { field: '_created_at', op: 'gte', value: '2026-03-01T00:00:00.000Z' },
        { field: '_updated_at', op: 'lt', value: '2026-04-01T00:00:00.000Z' },
        { field: '_id', op: 'gt', value: 10 },
        { field: '_updated_by', op: 'ne', value: 'admin' },
        { field: 'engineer', op: 'notEmpty' },
      ],
      sort: '-_created_at',
      columns: ['serial', '_created_at'],
      pageSize: 20,
    };
    const spec = specFromList(state);
    expect(listFromSpec(spec, fields)).toEqual(state);
    expect(differsFromView(state, spec, fields)).toBe(false);
    expect(differsFromView({ ...state, conditions: state.conditions.slice(1) }, spec, fields)).toBe(true);
    // A between on a timestamp is a filter the builder does not write: kept aside.
    const between = { '<=': ['2026-03-01', { var: '_created_at' }, '2026-04-01'] };
    const gte = { '>=': [{ var: '_created_at' }, '2026-03-01'] };
    expect(splitFilter({ and: [between, gte] }, fields)).toEqual({
      conditions: [{ field: '_created_at', op: 'gte', value: '2026-03-01' }],
      extra: between,
    });
  });

  it('the record id filters but never becomes a chosen column (the list has it as `#`)', () => {
    expect(listFromSpec({ columns: ['_id', 'serial', '_owner'] }, fields).columns).toEqual(['serial', '_owner']);
    expect(listColumns(fields).some((f) => f.key === '_id')).toBe(false);
  });

  it('read in words with their labels, timestamps in local time', () => {
    const at = '2026-03-01T00:00:00.000Z';
    expect(describeCondition({ field: '_created_at', op: 'gte', value: at }, byKey, en, 'en')).toBe(`Created at at least ${timestampText(at, 'en')}`);
    expect(timestampText(at, 'en')).toBe(new Date(at).toLocaleString('en', { dateStyle: 'short', timeStyle: 'medium' }));
    expect(describeCondition({ field: '_id', op: 'gt', value: 10 }, byKey, zh, 'zh-CN')).toBe('记录 ID 大于 10');
    expect(describeCondition({ field: '_updated_by', op: 'eq', value: 'admin' }, byKey, zh, 'zh-CN')).toBe('修改人 等于 admin');
    expect(timestampText('not a time', 'en')).toBe('not a time');
  });

  it('export: the API takes form fields only, so system columns stay out of its fields (it adds `_id` itself)', () => {
    expect(fieldColumns(['serial', '_created_at', '_updated_by', 'engineer'])).toEqual(['serial', 'engineer']);
  });
});
