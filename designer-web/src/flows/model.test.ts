import { describe, expect, test } from 'vitest';
import { TRIGGER_TYPES, switchTriggerType, triggerHasForm } from './model.ts';
import { crm } from './testFlows.ts';

describe('triggers', () => {
  test('switching the type keeps what the new type uses', () => {
    const tr = crm('warranty_renewal').trigger;
    expect(switchTriggerType(tr, 'record_created')).toEqual({ type: 'record_created', form: 'device' });
    expect(switchTriggerType(tr, 'schedule')).toEqual({ type: 'schedule', form: 'device', cron: '0 9 * * 1' });
    expect(switchTriggerType({ type: 'record_created', form: 'device', condition: { '!': { var: 'record.x' } } }, 'date_field')).toEqual({
      type: 'date_field',
      form: 'device',
      condition: { '!': { var: 'record.x' } },
      offset_days: 0,
    });
    expect(switchTriggerType({ type: 'record_updated', form: 'sales_order', fields: ['customer'] }, 'before_write')).toEqual({
      type: 'before_write',
      form: 'sales_order',
      fields: ['customer'],
    });
  });
});

describe('the subflow trigger', () => {
  test('a flow that only runs as a sub-flow may name a form or not, and is not flagged', () => {
    expect(triggerHasForm('subflow')).toBe('optional');
    expect(triggerHasForm('record_created')).toBe('required');
    expect(TRIGGER_TYPES).toContain('subflow');
  });
});

describe('the record_deleted trigger', () => {
  test('is offered with a form and a condition, like record_created', () => {
    expect(TRIGGER_TYPES).toContain('record_deleted');
    expect(triggerHasForm('record_deleted')).toBe('required');
    const created = { type: 'record_created', form: 'complaint', condition: { '==': [{ var: 'record.kind' }, 'complaint'] } };
    expect(switchTriggerType(created, 'record_deleted')).toEqual({ ...created, type: 'record_deleted' });
    // fields (record_updated) and a date offset do not carry over
    expect(switchTriggerType({ type: 'record_updated', form: 'complaint', fields: ['kind'] }, 'record_deleted')).toEqual({ type: 'record_deleted', form: 'complaint' });
    expect(switchTriggerType({ type: 'webhook' }, 'record_deleted')).toEqual({ type: 'record_deleted', form: '' });
  });
});
