// Node tests: notify channels, key → value maps, the webhook trigger and relative dates in
// query filters.
import { describe, expect, test } from 'vitest';
import { condsLogic, contextVars, parseConds } from './conditions.ts';
import { fromDefinition } from './definition.ts';
import { emptyDefinition, switchTriggerType, type FlowNode } from './model.ts';
import { addNode, updateNode } from './operations.ts';
import { looseJson, nodeSettingProblems, optionalValue, relDateLogic, relDateOf, switchNotifyChannel, withEntry } from './nodes.ts';
import { crm } from './testFlows.ts';
import { blank, nodeOf, rules } from './testFixtures.ts';

describe('notify channels', () => {
  const inbox: FlowNode = { id: 'tell', type: 'notify', label: { en: 'Tell' }, to: { role: 'service_manager' }, title: 'T {{record.serial}}', body: 'B', x_future: 1 };
  const apply = (n: FlowNode, patch: Partial<FlowNode>) => nodeOf(updateNode(fromDefinition({ ...emptyDefinition('f', { en: 'F' }, 'x'), nodes: [n] }), n.id, patch), n.id);

  test('inbox → email keeps recipients, title and body', () => {
    expect(apply(inbox, switchNotifyChannel(inbox, 'email'))).toEqual({ ...inbox, channel: 'email' });
  });

  test('email → webhook drops recipients, addresses, title and body; keeps as_role and unknown keys', () => {
    const email: FlowNode = { ...inbox, channel: 'email', address: { var: 'record.contact_email' }, as_role: 'customer' };
    expect(apply(email, switchNotifyChannel(email, 'webhook'))).toEqual({
      id: 'tell',
      type: 'notify',
      label: { en: 'Tell' },
      x_future: 1,
      channel: 'webhook',
      as_role: 'customer',
      url: '',
    });
  });

  test('webhook → inbox drops url, headers, payload, as_role and the channel key; starts recipients', () => {
    const hook: FlowNode = { id: 'h', type: 'notify', channel: 'webhook', url: 'https://x', headers: { A: 'b' }, payload: { k: { var: 'record.id' } }, as_role: 'r' };
    expect(apply(hook, switchNotifyChannel(hook, 'inbox'))).toEqual({ id: 'h', type: 'notify', to: { initiator: true }, title: '', body: '' });
  });

  test('webhook → email: recipients start as the initiator (no address yet)', () => {
    const hook: FlowNode = { id: 'h', type: 'notify', channel: 'webhook', url: 'https://x' };
    expect(apply(hook, switchNotifyChannel(hook, 'email'))).toEqual({ id: 'h', type: 'notify', channel: 'email', to: { initiator: true }, title: '', body: '' });
  });

  test('the channel of a new notify node is the inbox (no channel key)', () => {
    const s = addNode(blank(), 'notify', { x: 0, y: 0 }).state;
    expect(nodeOf(s, 'notify_1')).toEqual({ id: 'notify_1', type: 'notify', to: { initiator: true }, title: '', body: '' });
  });

  test('hints: addresses need a role, an email needs someone, a webhook a url', () => {
    expect(nodeSettingProblems({ id: 'm', type: 'notify', channel: 'email', address: { var: 'record.e' }, title: 't' })).toEqual([{ key: 'as_role', rule: 'asRole' }]);
    expect(nodeSettingProblems({ id: 'm', type: 'notify', channel: 'email', title: 't' })).toEqual([{ key: 'to', rule: 'recipients' }]);
    expect(nodeSettingProblems({ id: 'm', type: 'notify', channel: 'email', address: { var: 'record.e' }, as_role: 'r', title: 't' })).toEqual([]);
    expect(nodeSettingProblems({ id: 'w', type: 'notify', channel: 'webhook', url: ' ' })).toEqual([{ key: 'url', rule: 'url' }]);
    expect(nodeSettingProblems(inbox)).toEqual([]);
  });

  test('optional settings: empty means not written', () => {
    expect(optionalValue('')).toBeUndefined();
    expect(optionalValue({})).toBeUndefined();
    expect(optionalValue(null)).toBeUndefined();
    expect(optionalValue('r')).toBe('r');
    expect(optionalValue({ a: 1 })).toEqual({ a: 1 });
  });
});

describe('key → value maps', () => {
  test('values typed as JSON, else as text', () => {
    expect(looseJson('{"var": "record.serial"}')).toEqual({ var: 'record.serial' });
    expect(looseJson('42')).toBe(42);
    expect(looseJson('"quoted"')).toBe('quoted');
    expect(looseJson('formwork')).toBe('formwork');
    expect(looseJson('{broken')).toBe('{broken');
  });

  test('entries are set and removed; an empty map is not written', () => {
    expect(withEntry(undefined, 'a', 1)).toEqual({ a: 1 });
    expect(withEntry({ a: 1, b: 2 }, 'a', 3)).toEqual({ a: 3, b: 2 });
    expect(Object.keys(withEntry({ a: 1, b: 2 }, 'a', 3)!)).toEqual(['a', 'b']);
    expect(withEntry({ a: 1 }, 'a', undefined)).toBeUndefined();
  });
});

describe('webhook trigger', () => {
  test('switching to webhook drops the form and condition; back gives an empty form', () => {
    const tr = { type: 'record_created', form: 'service_order', condition: { '!': { var: 'record.x' } } };
    const hook = switchTriggerType(tr, 'webhook');
    expect(hook).toEqual({ type: 'webhook' });
    expect(switchTriggerType(hook, 'record_created')).toEqual({ type: 'record_created', form: '' });
    expect(switchTriggerType(hook, 'schedule')).toEqual({ type: 'schedule', cron: '0 9 * * 1' });
  });

  test('lint: no form needed, a form is flagged; vars.payload is offered', () => {
    const s = blank();
    expect(rules({ ...s, trigger: { type: 'webhook' } })).toEqual([]);
    expect(rules({ ...s, trigger: { type: 'webhook', form: 'service_order' } })).toEqual(['/trigger/form webhookForm']);
    expect(contextVars([], { ...s, trigger: { type: 'webhook' } })).toContain('vars.payload');
    expect(contextVars([], s)).not.toContain('vars.payload');
  });
});

describe('relative dates in query filters (add_days)', () => {
  const filter = {
    and: [
      { '<=': [{ var: 'last_inspection_on' }, { add_days: [{ var: 'today' }, -91] }] },
      { '!=': [{ var: 'status' }, 'scrapped'] },
    ],
  };

  test('a computed offset (the CRM flow\'s shortest interval) stays JSON', () => {
    const crmFilter = crm('preventive_maintenance').nodes.find((n) => n.id === 'find')!.filter;
    expect(parseConds(crmFilter, { varValues: true })).toBeNull();
  });

  test('today - 91 days round-trips through the builder', () => {
    expect(parseConds(filter)).toBeNull(); // not in plain conditions
    const conds = parseConds(filter, { varValues: true });
    expect(conds).toEqual([
      { var: 'last_inspection_on', op: 'lte', value: { add_days: [{ var: 'today' }, -91] } },
      { var: 'status', op: 'ne', value: 'scrapped' },
    ]);
    expect(condsLogic(conds!)).toEqual(filter);
  });

  test('the value side helpers', () => {
    expect(relDateOf({ add_days: [{ var: 'today' }, -91] })).toEqual({ var: 'today', days: -91 });
    expect(relDateOf({ add_days: [{ var: 'today' }, 'x'] })).toBeNull();
    expect(relDateOf({ add_days: ['2024-01-01', 3] })).toBeNull();
    expect(relDateOf({ var: 'today' })).toBeNull();
    expect(relDateLogic({ var: 'today', days: 7 })).toEqual({ add_days: [{ var: 'today' }, 7] });
    expect(relDateLogic({ var: 'record.due', days: 0 })).toEqual({ var: 'record.due' });
    // other functions of a date stay JSON
    expect(parseConds({ '>': [{ var: 'a' }, { days_between: [{ var: 'b' }, { var: 'today' }] }] }, { varValues: true })).toBeNull();
  });
});
