import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../forms/model.ts';
import { filterLogic, sortKeys } from './filters.ts';
import {
  ALL_RECORDS,
  differsFromView,
  listFromSpec,
  mayChangeView,
  pageSizeOf,
  sameJson,
  sortViews,
  specFromList,
  splitFilter,
  viewErrors,
  type ListState,
  type SavedView,
} from './views.ts';

const fields = fieldsOf({
  properties: {
    serial: { 'x-type': 'serial', type: 'string' },
    status: { 'x-type': 'select', type: 'string', enum: ['reported', 'closed'] },
    priority: { 'x-type': 'select', type: 'string', enum: ['urgent', 'high', 'normal', 'low'] },
    fault_code: { 'x-type': 'text', type: 'string' },
    labour_hours: { 'x-type': 'number', type: 'number' },
    engineer: { 'x-type': 'member', type: 'string' },
    tags: { 'x-type': 'multi_select', type: 'array', items: { enum: ['a', 'b'] } },
    reported_at: { 'x-type': 'datetime', type: 'string' },
  },
});

const state: ListState = {
  extra: undefined,
  conditions: [
    { field: 'priority', op: 'eq', value: 'high' },
    { field: 'fault_code', op: 'contains', value: 'E-' },
  ],
  sort: '-reported_at',
  columns: ['serial', 'status', 'reported_at'],
  pageSize: 50,
};

describe('view spec from the list', () => {
  it('saves the filter and sort the list sends, the columns and the page size', () => {
    expect(specFromList(state)).toEqual({
      filter: { and: [{ '==': [{ var: 'priority' }, 'high'] }, { in: ['E-', { var: 'fault_code' }] }] },
      sort: '-reported_at',
      columns: ['serial', 'status', 'reported_at'],
      page_size: 50,
    });
  });

  it('ANDs the part the builder cannot show (a report drill-down) before the conditions', () => {
    const drill = { or: [{ '==': [{ var: 'status' }, 'reported'] }, { '==': [{ var: 'status' }, 'closed'] }] };
    const spec = specFromList({ ...state, extra: drill, conditions: [state.conditions[0]!] });
    expect(spec.filter).toEqual({ and: [drill, { '==': [{ var: 'priority' }, 'high'] }] });
  });

  it('leaves out what is unset and drops incomplete conditions', () => {
    expect(specFromList(ALL_RECORDS)).toEqual({ page_size: 20 });
    expect(specFromList({ ...ALL_RECORDS, conditions: [{ field: 'status', op: 'eq' }] })).toEqual({ page_size: 20 });
  });
});

describe('list state from a view spec', () => {
  it('round-trips a saved state', () => {
    expect(listFromSpec(specFromList(state), fields)).toEqual(state);
  });

  it('turns each builder operator back into its condition', () => {
    const conditions = [
      { field: 'status', op: 'ne', value: 'closed' },
      { field: 'engineer', op: 'empty' },
      { field: 'engineer', op: 'notEmpty' },
      { field: 'labour_hours', op: 'gte', value: 2 },
      { field: 'labour_hours', op: 'lt', value: 8.5 },
      { field: 'reported_at', op: 'gt', value: '2026-03-01T00:00:00+08:00' },
      { field: 'reported_at', op: 'lte', value: '2026-04-01T00:00:00+08:00' },
      { field: 'serial', op: 'starts', value: 'SO-2026' },
      { field: 'tags', op: 'contains', value: 'a' },
    ] as const;
    const filter = filterLogic([...conditions]);
    expect(splitFilter(filter, fields)).toEqual({ conditions, extra: undefined });
  });

  it('keeps what the builder cannot show as the extra filter, flattening nested and', () => {
    const or = { or: [{ '==': [{ var: 'status' }, 'reported'] }, { '==': [{ var: 'priority' }, 'urgent'] }] };
    const between = { '<=': [1, { var: 'labour_hours' }, 4] };
    const unknown = { '==': [{ var: 'amount' }, 3] };
    const wrongOp = { '>': [{ var: 'status' }, 'a'] }; // select fields offer no order operators
    const emptyValue = { '==': [{ var: 'status' }, ''] }; // the builder would drop it
    const filter = { and: [or, { and: [{ '==': [{ var: 'priority' }, 'high'] }, between] }, unknown, wrongOp, emptyValue] };
    expect(splitFilter(filter, fields)).toEqual({
      conditions: [{ field: 'priority', op: 'eq', value: 'high' }],
      extra: { and: [or, between, unknown, wrongOp, emptyValue] },
    });
    expect(splitFilter(or, fields)).toEqual({ conditions: [], extra: or });
    expect(splitFilter(undefined, fields)).toEqual({ conditions: [], extra: undefined });
    expect(splitFilter({ and: [] }, fields)).toEqual({ conditions: [], extra: undefined });
  });

  it('drops columns the caller cannot see, and takes sensible defaults', () => {
    expect(listFromSpec({ columns: ['serial', 'service_fee'], sort: ' priority ', page_size: 7 }, fields)).toEqual({
      extra: undefined,
      conditions: [],
      sort: 'priority',
      columns: ['serial'],
      pageSize: 7,
    });
    expect(listFromSpec({ columns: ['service_fee'], sort: '' }, fields)).toEqual(ALL_RECORDS);
    expect(listFromSpec({}, fields)).toEqual(ALL_RECORDS);
  });

  it('keeps system columns, which every record has, in the order saved', () => {
    const spec = { columns: ['serial', '_created_at', 'service_fee', '_updated_by', '_owner', '_nope', '_id'], page_size: 20 };
    expect(listFromSpec(spec, fields).columns).toEqual(['serial', '_created_at', '_updated_by', '_owner']);
    expect(listFromSpec({ columns: ['_created_by'] }, fields).columns).toEqual(['_created_by']);
  });

  it('round-trips a list showing system columns through a saved view', () => {
    const shown: ListState = { ...state, sort: '-_updated_at', columns: ['serial', '_created_at', 'status', '_updated_by'] };
    const spec = specFromList(shown);
    expect(spec.columns).toEqual(['serial', '_created_at', 'status', '_updated_by']);
    // As the server stores and returns it.
    const stored = JSON.parse(JSON.stringify(spec)) as typeof spec;
    expect(listFromSpec(stored, fields)).toEqual(shown);
    expect(differsFromView(shown, stored, fields)).toBe(false);
    expect(differsFromView({ ...shown, columns: ['serial', 'status', '_updated_by'] }, stored, fields)).toBe(true);
  });

  it('accepts page sizes the list API accepts', () => {
    expect(pageSizeOf(50)).toBe(50);
    expect(pageSizeOf(1000)).toBe(1000);
    for (const bad of [0, 1001, 2.5, '50', null, undefined]) expect(pageSizeOf(bad)).toBe(20);
  });
});

describe('does the list differ from the chosen view', () => {
  const spec = specFromList(state);

  it('not right after choosing or saving it', () => {
    expect(differsFromView(state, spec, fields)).toBe(false);
    expect(differsFromView(listFromSpec(spec, fields), spec, fields)).toBe(false);
  });

  it('when the filter, sort, columns or page size change', () => {
    expect(differsFromView({ ...state, conditions: [state.conditions[0]!] }, spec, fields)).toBe(true);
    expect(differsFromView({ ...state, sort: 'reported_at' }, spec, fields)).toBe(true);
    expect(differsFromView({ ...state, sort: undefined }, spec, fields)).toBe(true);
    expect(differsFromView({ ...state, columns: ['status', 'serial', 'reported_at'] }, spec, fields)).toBe(true);
    expect(differsFromView({ ...state, pageSize: 20 }, spec, fields)).toBe(true);
    expect(differsFromView({ ...state, extra: { '!=': [{ var: 'engineer' }, 'x'] } }, spec, fields)).toBe(true);
  });

  it('not when the same conditions are written differently', () => {
    const handWritten = {
      filter: { and: [{ and: [{ '==': [{ var: 'priority' }, 'high'] }] }, { in: ['E-', { var: 'fault_code' }] }] },
      sort: '-reported_at',
      columns: ['serial', 'status', 'reported_at'],
      page_size: 50,
    };
    expect(differsFromView(state, handWritten, fields)).toBe(false);
    // A report's drill-down kept in ?filter= that the builder could show as conditions.
    const fromUrl: ListState = { ...state, extra: spec.filter, conditions: [] };
    expect(differsFromView(fromUrl, spec, fields)).toBe(false);
  });

  it('a view without columns or page size matches the list default', () => {
    expect(differsFromView({ ...ALL_RECORDS, columns: ['serial'] }, {}, fields)).toBe(false);
    expect(differsFromView({ ...ALL_RECORDS, columns: ['serial'], pageSize: 50 }, {}, fields)).toBe(true);
  });
});

describe('views and their owners', () => {
  const view = (o: Partial<SavedView>): SavedView => ({
    id: 1,
    name: 'v',
    owner: 'cs1',
    shared: false,
    spec: {},
    created_at: '',
    updated_at: '',
    ...o,
  });

  it('the owner, or an administrator for a shared view, may change it', () => {
    expect(mayChangeView(view({}), 'cs1', false)).toBe(true);
    expect(mayChangeView(view({}), 'cs2', false)).toBe(false);
    expect(mayChangeView(view({}), 'admin', true)).toBe(false);
    expect(mayChangeView(view({ shared: true, owner: 'admin' }), 'cs1', false)).toBe(false);
    expect(mayChangeView(view({ shared: true, owner: 'admin' }), 'other_admin', true)).toBe(true);
    expect(mayChangeView(view({}), undefined, false)).toBe(false);
  });

  it('are listed by name as the server orders them', () => {
    const vs = [view({ id: 3, name: 'b' }), view({ id: 1, name: 'a' }), view({ id: 2, name: 'B' }), view({ id: 4, name: '工单' })];
    expect(sortViews(vs).map((v) => v.name)).toEqual(['B', 'a', 'b', '工单']);
  });
});

describe('server errors by dialog part', () => {
  it('puts each detail next to what it concerns', () => {
    const e = viewErrors({
      message: 'validation failed',
      details: [
        { pointer: '/name', rule: 'required', message: 'name is required' },
        { pointer: '/spec/filter/and/0/==/0', rule: 'filter', message: 'unknown field' },
        { pointer: '/spec/sort', rule: 'field_read', message: 'may not read service_fee' },
        { pointer: '/spec/columns/2', rule: 'field', message: 'no field nope' },
        { pointer: '/spec/page_size', rule: 'range', message: 'too big' },
        { pointer: '/shared', rule: 'shared', message: 'only administrators share views' },
        { pointer: '/spec', rule: 'type', message: 'not an object' },
        { pointer: '/names', rule: 'x', message: 'not the name' },
      ],
    });
    expect(e.messages).toEqual({
      name: ['name is required'],
      filter: ['unknown field'],
      sort: ['may not read service_fee'],
      columns: ['no field nope'],
      pageSize: ['too big'],
      shared: ['only administrators share views'],
      other: ['not an object', 'not the name'],
    });
    expect(e.badColumns).toEqual([2]);
  });

  it('an error without details is one general message', () => {
    expect(viewErrors({ message: 'forbidden', details: [] })).toEqual({ messages: { other: ['forbidden'] }, badColumns: [] });
  });
});

describe('helpers', () => {
  it('reads sort keys in order', () => {
    expect(sortKeys('-reported_at, priority,+serial')).toEqual([
      { key: 'reported_at', desc: true },
      { key: 'priority', desc: false },
      { key: 'serial', desc: false },
    ]);
    expect(sortKeys(undefined)).toEqual([]);
    expect(sortKeys(' , -')).toEqual([]);
  });

  it('compares JSON regardless of key order', () => {
    expect(sameJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: 1 }, [1])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });
});
