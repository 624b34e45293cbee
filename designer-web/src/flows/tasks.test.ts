import { expect, test } from 'vitest';
import { appsOf, changedEditable, flowLabels, initiatedRows, labelOf, outcomesOf, overdue, recordOf, statusColor, stopActions } from './tasks.ts';

test('recordOf takes a record item or bare data', () => {
  expect(recordOf({ id: 7, row_version: 2, data: { a: 1 } })).toEqual({ id: 7, data: { a: 1 } });
  expect(recordOf({ a: 1 })).toEqual({ id: null, data: { a: 1 } });
  expect(recordOf(null)).toBeNull();
});

test('only changed editable fields are sent', () => {
  const before = { status: 'reported', priority: 'urgent', engineer: 'engineer1', note: 'x' };
  const after = { status: 'dispatched', priority: 'urgent', note: 'changed but not editable' };
  expect(changedEditable(before, after, ['status', 'priority', 'engineer'])).toEqual({ status: 'dispatched', engineer: null });
  expect(changedEditable(before, { ...before }, ['status'])).toBeUndefined();
  expect(changedEditable({ parts: [{ a: 1 }] }, { parts: [{ a: 2 }] }, ['parts'])).toEqual({ parts: [{ a: 2 }] });
});

test('outcomes, labels, overdue, stop actions', () => {
  expect(outcomesOf('approval')).toEqual(['approved', 'rejected']);
  expect(outcomesOf('task')).toEqual(['done']);
  expect(labelOf('Accept')).toEqual({ 'zh-CN': 'Accept', en: 'Accept' });
  expect(labelOf({ en: 'A', n: 1 })).toEqual({ en: 'A' });
  expect(labelOf(null)).toBeUndefined();
  expect(overdue('2000-01-01T00:00:00Z')).toBe(true);
  expect(overdue(null)).toBe(false);
  expect(overdue('2999-01-01T00:00:00Z')).toBe(false);
  const admin = { username: 'admin', platform_role: 'admin' };
  const cs = { username: 'cs1', platform_role: null };
  expect(stopActions('running', admin, 'cs1')).toEqual(['cancel']);
  expect(stopActions('running', cs, 'cs1')).toEqual(['withdraw']);
  expect(stopActions('completed', admin, 'admin')).toEqual([]);
  expect(stopActions('running', cs, 'cs2')).toEqual([]);
});

test('initiated by me: newest first, with the flow labels of each app', () => {
  const inst = (id: number, flow: string, started_at: string, extra: Record<string, unknown> = {}) => ({
    id,
    app: 'crm',
    flow,
    version: 1,
    form: 'service_order',
    record: 100 + id,
    status: 'running',
    initiator: 'cs1',
    started_at,
    ended_at: null,
    ...extra,
  });
  const items = [
    inst(3, 'service_dispatch', '2026-03-01T08:00:00Z'),
    inst(5, 'sla_first_plan', '2026-03-02T08:00:00Z', { status: 'completed', ended_at: '2026-03-02T09:00:00Z' }),
    inst(4, 'sla_first_plan', '2026-03-01T08:00:00Z'),
    { ...inst(6, 'nightly', '2026-02-01T00:00:00Z'), app: 'ops', form: null, record: null },
  ];
  const labels = flowLabels({
    crm: [
      { key: 'service_dispatch', label: { 'zh-CN': '工单派工', en: 'Service dispatch' } },
      { key: 'sla_first_plan', label: 'SLA plan' },
    ],
    ops: [],
  });
  const rows = initiatedRows(items, labels);
  expect(rows.map((r) => r.id)).toEqual([5, 4, 3, 6]); // same start: the higher id first
  expect(rows[0]).toEqual({
    id: 5,
    app: 'crm',
    flow: 'sla_first_plan',
    flowLabel: { 'zh-CN': 'SLA plan', en: 'SLA plan' },
    form: 'service_order',
    record: 105,
    status: 'completed',
    initiator: 'cs1',
    started_at: '2026-03-02T08:00:00Z',
    ended_at: '2026-03-02T09:00:00Z',
  });
  expect(rows[2]!.flowLabel).toEqual({ 'zh-CN': '工单派工', en: 'Service dispatch' });
  // a flow without a known label, an instance without a record
  expect(rows[3]).toMatchObject({ flow: 'nightly', form: null, record: null });
  // an instance started by the engine (no initiator) shows an empty initiator
  expect(initiatedRows([{ ...inst(7, 'nightly', '2026-02-01T00:00:00Z'), initiator: null }], labels)[0]!.initiator).toBe('');
  expect(rows[3]!.flowLabel).toBeUndefined();
  expect(appsOf(items)).toEqual(['crm', 'ops']);
  expect(items.map((i) => i.id)).toEqual([3, 5, 4, 6]); // not sorted in place
});

test('a task status has one colour in the inbox and on the task page', () => {
  expect(['open', 'approved', 'done', 'rejected', 'returned', 'transferred', 'cancelled'].map(statusColor)).toEqual(['blue', 'green', 'green', 'red', 'red', 'default', 'default']);
});
