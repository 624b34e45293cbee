import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  addNode,
  condsLogic,
  connect,
  contextVars,
  emptyDefinition,
  fromDefinition,
  lint,
  parseConds,
  setEachEdge,
  switchTriggerType,
  toDefinition,
  updateEdge,
  updateNode,
  type FlowDefinition,
  type FlowNode,
  type FlowState,
} from './model.ts';
import {
  edgeHandleOf,
  edgeRuleProblems,
  httpOutcomePatch,
  looseJson,
  nodeSettingProblems,
  optionalValue,
  relDateLogic,
  relDateOf,
  switchNotifyChannel,
  withEntry,
} from './nodes.ts';

const CRM_FLOWS = resolve(import.meta.dirname, '..', '..', '..', 'seed-apps', 'medical-device-crm', 'flows');
const crm = (key: string) => JSON.parse(readFileSync(join(CRM_FLOWS, `${key}.json`), 'utf8')) as FlowDefinition;

const blank = () => fromDefinition(emptyDefinition('f', { en: 'F' }, 'service_order'));
const nodeOf = (s: FlowState, id: string) => toDefinition(s).nodes.find((n) => n.id === id);
const edgesOf = (s: FlowState, from: string) => toDefinition(s).edges.filter((e) => e.from === from);
const rules = (s: FlowState) => lint(s).map((p) => `${p.pointer} ${p.rule}`);

describe('palette templates', () => {
  test('loop and http', () => {
    let s = blank();
    const l = addNode(s, 'loop', { x: 0, y: 0 });
    s = l.state;
    const h = addNode(s, 'http', { x: 0, y: 0 });
    s = h.state;
    expect([l.id, h.id]).toEqual(['loop_1', 'http_1']);
    expect(nodeOf(s, 'loop_1')).toEqual({ id: 'loop_1', type: 'loop', as: 'item' });
    expect(nodeOf(s, 'http_1')).toEqual({ id: 'http_1', type: 'http', method: 'POST', url: '' });
    // fresh nodes are flagged until filled in: no list, no url, no edges
    expect(rules(s)).toEqual(['/nodes/2 loopEdges', '/nodes/2/over loopOver', '/nodes/3 httpEdges', '/nodes/3/url url']);
  });
});

describe('edges out of a loop', () => {
  const withLoop = () => {
    let s = addNode(blank(), 'loop', { x: 0, y: 0 }).state;
    s = addNode(s, 'task', { x: 0, y: 0 }).state;
    return updateNode(s, 'loop_1', { over: { var: 'vars.due' } });
  };

  test('without a handle the first connection is the body, the second is done', () => {
    let s = withLoop();
    s = connect(s, { source: 'loop_1', target: 'task_1' });
    s = connect(s, { source: 'loop_1', target: 'end' });
    s = connect(s, { source: 'task_1', target: 'loop_1' });
    expect(edgesOf(s, 'loop_1')).toEqual([
      { from: 'loop_1', to: 'task_1', each: true },
      { from: 'loop_1', to: 'end' },
    ]);
    expect(s.edges.filter((e) => e.source === 'loop_1').map((e) => e.sourceHandle)).toEqual(['each', 'done']);
    expect(rules(s)).toEqual([]);
  });

  test('the handle decides: done first, then each', () => {
    let s = withLoop();
    s = connect(s, { source: 'loop_1', sourceHandle: 'done', target: 'end' });
    s = connect(s, { source: 'loop_1', sourceHandle: 'each', target: 'task_1' });
    expect(edgesOf(s, 'loop_1')).toEqual([
      { from: 'loop_1', to: 'end' },
      { from: 'loop_1', to: 'task_1', each: true },
    ]);
  });

  test('marking another edge as the body moves the flag and the handle', () => {
    let s = withLoop();
    s = connect(s, { source: 'loop_1', target: 'task_1' });
    s = connect(s, { source: 'loop_1', target: 'end' });
    const [body, done] = s.edges.filter((e) => e.source === 'loop_1');
    s = setEachEdge(s, done!.id);
    expect(edgesOf(s, 'loop_1')).toEqual([
      { from: 'loop_1', to: 'task_1' },
      { from: 'loop_1', to: 'end', each: true },
    ]);
    expect(s.edges.find((e) => e.id === body!.id)?.sourceHandle).toBe('done');
    expect(s.edges.find((e) => e.id === done!.id)?.sourceHandle).toBe('each');
    // un-marking leaves no body: flagged
    s = updateEdge(s, done!.id, { each: undefined });
    expect(rules(s)).toContain('/nodes/2 loopEdges');
  });

  test('edge rules', () => {
    expect(edgeRuleProblems('loop', [{ each: true }, {}])).toEqual([]);
    expect(edgeRuleProblems('loop', [{ each: true }, { each: true }])).toEqual(['loopEdges']);
    expect(edgeRuleProblems('loop', [{ each: true }])).toEqual(['loopEdges']);
    expect(edgeRuleProblems('loop', [{ each: true }, {}, {}])).toEqual(['loopEdges']);
    expect(edgeRuleProblems('task', [])).toEqual([]);
  });

  test('the CRM preventive maintenance loop: handles, vars, no hints, exact round trip', () => {
    const def = crm('preventive_maintenance');
    const s = fromDefinition(def);
    const out = s.edges.filter((e) => e.source === 'each');
    expect(out.map((e) => [e.target, e.sourceHandle])).toEqual([
      ['product', 'each'],
      ['end', 'done'],
    ]);
    expect(rules(s)).toEqual([]);
    expect(contextVars([], s)).toEqual(expect.arrayContaining(['vars.due', 'vars.device', 'vars.device_index']));
    expect(toDefinition(s)).toEqual(def);
  });
});

describe('edges out of an http node', () => {
  const withHttp = () => {
    let s = addNode(blank(), 'http', { x: 0, y: 0 }).state;
    s = addNode(s, 'task', { x: 0, y: 0 }).state;
    return updateNode(s, 'http_1', { url: 'https://erp.example.com/x' });
  };

  test('ok handle: a plain edge; failed handle: outcome failed', () => {
    let s = withHttp();
    s = connect(s, { source: 'http_1', sourceHandle: 'ok', target: 'end' });
    s = connect(s, { source: 'http_1', sourceHandle: 'failed', target: 'task_1' });
    expect(edgesOf(s, 'http_1')).toEqual([
      { from: 'http_1', to: 'end' },
      { from: 'http_1', to: 'task_1', outcome: 'failed' },
    ]);
    expect(s.edges.filter((e) => e.source === 'http_1').map((e) => e.sourceHandle)).toEqual(['ok', 'failed']);
    expect(rules(s)).toEqual([]);
  });

  test('two ok edges or two failed edges are flagged', () => {
    let s = withHttp();
    s = connect(s, { source: 'http_1', target: 'end' });
    s = connect(s, { source: 'http_1', target: 'task_1' });
    expect(rules(s)).toEqual(['/nodes/2 httpEdges']);
    expect(edgeRuleProblems('http', [{ outcome: 'ok' }, { outcome: 'failed' }])).toEqual([]);
    expect(edgeRuleProblems('http', [{}, { outcome: 'failed' }, { outcome: 'failed' }])).toEqual(['httpEdges']);
    expect(edgeRuleProblems('http', [{ outcome: 'failed' }])).toEqual(['httpEdges']);
  });

  test('switching the outcome in the edge panel', () => {
    let s = withHttp();
    s = connect(s, { source: 'http_1', target: 'end' });
    const id = s.edges.find((e) => e.source === 'http_1')!.id;
    s = updateEdge(s, id, httpOutcomePatch(s.edges.find((e) => e.id === id)!.data.edge, 'failed'));
    expect(edgesOf(s, 'http_1')).toEqual([{ from: 'http_1', to: 'end', outcome: 'failed' }]);
    expect(s.edges.find((e) => e.id === id)?.sourceHandle).toBe('failed');
    s = updateEdge(s, id, httpOutcomePatch(s.edges.find((e) => e.id === id)!.data.edge, 'ok'));
    expect(edgesOf(s, 'http_1')).toEqual([{ from: 'http_1', to: 'end' }]);
    expect(s.edges.find((e) => e.id === id)?.sourceHandle).toBe('ok');
    // an explicit "ok" is kept as written
    expect(httpOutcomePatch({ outcome: 'ok' }, 'ok')).toEqual({ outcome: 'ok' });
  });

  test('handles from a definition', () => {
    expect(edgeHandleOf('http', { outcome: 'ok' })).toBe('ok');
    expect(edgeHandleOf('http', {})).toBe('ok');
    expect(edgeHandleOf('http', { outcome: 'failed' })).toBe('failed');
    expect(edgeHandleOf('approval', { outcome: 'rejected' })).toBe('rejected');
    expect(edgeHandleOf('branch', { default: true })).toBeNull();
  });

  test('http results are context variables; a bad name is flagged', () => {
    let s = withHttp();
    expect(contextVars([], s)).toEqual(expect.arrayContaining(['vars.http_1', 'vars.http_1.ok', 'vars.http_1.status', 'vars.http_1.body']));
    s = updateNode(s, 'http_1', { name: 'erp' });
    expect(contextVars([], s)).toContain('vars.erp.status');
    expect(contextVars([], s)).not.toContain('vars.http_1');
    expect(nodeSettingProblems({ id: 'h', type: 'http', url: 'https://x', name: 'Bad Name' })).toEqual([{ key: 'name', rule: 'key' }]);
  });
});

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
  const filter = crm('preventive_maintenance').nodes.find((n) => n.id === 'find')!.filter;

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
