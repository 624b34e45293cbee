import { expect, test } from 'vitest';
import { changedEditable, labelOf, outcomesOf, overdue, recordOf, stopActions } from './tasks.ts';

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
