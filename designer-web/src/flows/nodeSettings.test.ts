import { describe, expect, test } from 'vitest';
import { assigneeKind, assigneeValue, durationOf, makeAssignee, withDuration } from './nodeSettings.ts';

describe('assignees and durations', () => {
  test('assignee kinds', () => {
    for (const [kind, value] of [
      ['user', 'director'],
      ['role', 'engineer'],
      ['field', 'engineer'],
      ['initiator', ''],
      ['roles', 'engineer,sales'],
      ['head', 'initiator'],
      ['head', 'record'],
      ['head', 'field:engineer'],
    ] as const) {
      const a = makeAssignee(kind, value);
      expect(assigneeKind(a)).toBe(kind);
      expect(assigneeValue(a)).toBe(value);
    }
    expect(makeAssignee('initiator', 'x')).toEqual({ initiator: true });
    expect(makeAssignee('head', 'field:engineer')).toEqual({ head_of: { field: 'engineer' } });
    expect(makeAssignee('head', 'record')).toEqual({ head_of: 'record' });
    expect(makeAssignee('roles', 'engineer,sales')).toEqual({ roles: ['engineer', 'sales'] });
    expect(assigneeKind({ head_of: 'nobody' })).toBeNull();
    expect(assigneeKind(undefined)).toBeNull();
  });

  test('durations keep one unit', () => {
    expect(durationOf({ minutes: 120, action: 'remind' })).toEqual({ amount: 120, unit: 'minutes' });
    expect(durationOf(undefined)).toEqual({ amount: null, unit: 'hours' });
    expect(withDuration({ minutes: 5, action: 'escalate' }, 2, 'days')).toEqual({ days: 2, action: 'escalate' });
    expect(withDuration({ id: 'w', type: 'delay', hours: 1 }, null, 'hours')).toEqual({ id: 'w', type: 'delay' });
  });
});
