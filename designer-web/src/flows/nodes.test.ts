import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lint } from './checks.ts';
import { condsLogic, contextVars, parseConds } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, switchTriggerType, type FlowDefinition, type FlowNode, type FlowState } from './model.ts';
import { addNode, canConnect, connect, setEachEdge, updateEdge, updateNode } from './operations.ts';
import {
  TASK_MODES,
  edgeHandleOf,
  edgeRuleProblems,
  handleConnectable,
  httpOutcomePatch,
  isTerminating,
  looseJson,
  nodeSettingProblems,
  nodeVars,
  optionalValue,
  relDateLogic,
  relDateOf,
  subflowChoices,
  subflowOnOtherRecord,
  subflowOutcomeOf,
  subflowOutcomePatch,
  subflowTargetPatch,
  subflowWaitPatch,
  subflowWaits,
  switchNotifyChannel,
  taskModeOf,
  terminatePatch,
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

describe('subflow node', () => {
  const withSubflow = () => {
    let s = addNode(blank(), 'subflow', { x: 0, y: 0 }).state;
    s = addNode(s, 'task', { x: 0, y: 0 }).state;
    return updateNode(s, 'subflow_1', { flow: 'follow_up' });
  };
  const handles = (s: FlowState, from: string) => s.edges.filter((e) => e.source === from).map((e) => e.sourceHandle);

  test('palette template: an empty flow, flagged until a flow is picked and an edge drawn', () => {
    const r = addNode(blank(), 'subflow', { x: 0, y: 0 });
    expect(r.id).toBe('subflow_1');
    expect(nodeOf(r.state, 'subflow_1')).toEqual({ id: 'subflow_1', type: 'subflow', flow: '' });
    expect(subflowWaits(nodeOf(r.state, 'subflow_1')!)).toBe(true);
    expect(rules(r.state)).toEqual(['/nodes/2 subflowEdges', '/nodes/2/flow subflowFlow']);
  });

  test('completed handle: a plain edge; failed handle: outcome failed', () => {
    let s = withSubflow();
    s = connect(s, { source: 'subflow_1', sourceHandle: 'completed', target: 'end' });
    s = connect(s, { source: 'subflow_1', sourceHandle: 'failed', target: 'task_1' });
    expect(edgesOf(s, 'subflow_1')).toEqual([
      { from: 'subflow_1', to: 'end' },
      { from: 'subflow_1', to: 'task_1', outcome: 'failed' },
    ]);
    expect(handles(s, 'subflow_1')).toEqual(['completed', 'failed']);
    expect(rules(s)).toEqual([]);
    // without a handle: the plain (completed) edge
    const t = connect(withSubflow(), { source: 'subflow_1', target: 'end' });
    expect(edgesOf(t, 'subflow_1')).toEqual([{ from: 'subflow_1', to: 'end' }]);
    expect(handles(t, 'subflow_1')).toEqual(['completed']);
  });

  test('switching the outcome in the edge panel moves the handle; an explicit "completed" stays', () => {
    let s = connect(withSubflow(), { source: 'subflow_1', target: 'end' });
    const id = s.edges.find((e) => e.source === 'subflow_1')!.id;
    const edge = () => s.edges.find((e) => e.id === id)!;
    s = updateEdge(s, id, subflowOutcomePatch(edge().data.edge, 'failed'));
    expect(edgesOf(s, 'subflow_1')).toEqual([{ from: 'subflow_1', to: 'end', outcome: 'failed' }]);
    expect(edge().sourceHandle).toBe('failed');
    s = updateEdge(s, id, subflowOutcomePatch(edge().data.edge, 'completed'));
    expect(edgesOf(s, 'subflow_1')).toEqual([{ from: 'subflow_1', to: 'end' }]);
    expect(edge().sourceHandle).toBe('completed');
    expect(subflowOutcomePatch({ outcome: 'completed' }, 'completed')).toEqual({ outcome: 'completed' });
    expect(subflowOutcomePatch({ outcome: 'failed' }, 'completed')).toEqual({ outcome: undefined });
  });

  test('handles and outcomes from a definition', () => {
    expect(edgeHandleOf('subflow', {})).toBe('completed');
    expect(edgeHandleOf('subflow', { outcome: 'completed' })).toBe('completed');
    expect(edgeHandleOf('subflow', { outcome: 'failed' })).toBe('failed');
    expect(subflowOutcomeOf({ outcome: 'failed' })).toBe('failed');
    expect(subflowOutcomeOf({})).toBe('completed');
    const def = {
      ...emptyDefinition('f', { en: 'F' }, 'service_order'),
      nodes: [
        { id: 'start', type: 'start' as const },
        { id: 'sub', type: 'subflow' as const, flow: 'x' },
        { id: 'end', type: 'end' as const },
      ],
      edges: [
        { from: 'start', to: 'sub' },
        { from: 'sub', to: 'end', outcome: 'completed' },
        { from: 'sub', to: 'end', outcome: 'failed' },
      ],
    };
    const s = fromDefinition(def);
    expect(handles(s, 'sub')).toEqual(['completed', 'failed']);
    expect(rules(s)).toEqual([]);
    expect(toDefinition(s).edges).toEqual(def.edges);
  });

  test('edge rules: one completed edge, at most one failed', () => {
    expect(edgeRuleProblems('subflow', [{}])).toEqual([]);
    expect(edgeRuleProblems('subflow', [{ outcome: 'completed' }, { outcome: 'failed' }])).toEqual([]);
    expect(edgeRuleProblems('subflow', [])).toEqual(['subflowEdges']);
    expect(edgeRuleProblems('subflow', [{}, {}])).toEqual(['subflowEdges']);
    expect(edgeRuleProblems('subflow', [{ outcome: 'failed' }])).toEqual(['subflowEdges']);
    expect(edgeRuleProblems('subflow', [{}, { outcome: 'failed' }, { outcome: 'failed' }])).toEqual(['subflowEdges']);
    // not waited for: no failed edge
    const noWait = { id: 's', type: 'subflow' as const, flow: 'x', wait: false };
    expect(edgeRuleProblems('subflow', [{}], noWait)).toEqual([]);
    expect(edgeRuleProblems('subflow', [{}, { outcome: 'failed' }], noWait)).toEqual(['subflowNoWait']);
    expect(edgeRuleProblems('subflow', [{}, { outcome: 'failed' }], { ...noWait, wait: true })).toEqual([]);
  });

  test('wait: only `"wait": false` is written; unticking hides the failed handle and flags a failed edge', () => {
    let s = withSubflow();
    const before = nodeOf(s, 'subflow_1');
    s = connect(s, { source: 'subflow_1', target: 'end' });
    s = connect(s, { source: 'subflow_1', sourceHandle: 'failed', target: 'task_1' });
    s = updateNode(s, 'subflow_1', subflowWaitPatch(false));
    expect(nodeOf(s, 'subflow_1')).toEqual({ ...before, wait: false });
    expect(subflowWaits(nodeOf(s, 'subflow_1')!)).toBe(false);
    expect(rules(s)).toEqual(['/nodes/2 subflowNoWait']);
    // no new failed edge may be drawn
    expect(canConnect(s, { source: 'subflow_1', sourceHandle: 'failed', target: 'start' })).toBe(false);
    expect(canConnect(s, { source: 'subflow_1', sourceHandle: 'failed', target: 'end' })).toBe(false);
    expect(handleConnectable(nodeOf(s, 'subflow_1'), 'completed')).toBe(true);
    // ticking again removes the key: the node is as before
    s = updateNode(s, 'subflow_1', subflowWaitPatch(true));
    expect(nodeOf(s, 'subflow_1')).toEqual(before);
    expect('wait' in nodeOf(s, 'subflow_1')!).toBe(false);
    expect(rules(s)).toEqual([]);
    expect(handleConnectable(nodeOf(s, 'subflow_1'), 'failed')).toBe(true);
  });

  test('the result is offered to conditions: vars.<name>.status / .vars, only when waited for', () => {
    let s = withSubflow();
    expect(contextVars([], s)).toEqual(expect.arrayContaining(['vars.subflow_1', 'vars.subflow_1.status', 'vars.subflow_1.vars']));
    s = updateNode(s, 'subflow_1', { name: 'child' });
    expect(contextVars([], s)).toEqual(expect.arrayContaining(['vars.child.status', 'vars.child.vars', 'vars.child.error']));
    expect(contextVars([], s)).not.toContain('vars.subflow_1.status');
    s = updateNode(s, 'subflow_1', subflowWaitPatch(false));
    expect(contextVars([], s).filter((v) => v.startsWith('vars.child'))).toEqual([]);
    expect(nodeVars({ id: 'x', type: 'subflow', flow: 'f' }, 'x')).toEqual(['vars.x', 'vars.x.status', 'vars.x.vars', 'vars.x.error']);
  });

  test('setting hints: no flow, itself, another record without form or id, a bad name', () => {
    const n = (extra: Partial<FlowNode>): FlowNode => ({ id: 's', type: 'subflow', flow: 'follow_up', ...extra });
    expect(nodeSettingProblems(n({}))).toEqual([]);
    expect(nodeSettingProblems(n({ flow: '' }))).toEqual([{ key: 'flow', rule: 'subflowFlow' }]);
    expect(nodeSettingProblems(n({}), { flow: 'follow_up' })).toEqual([{ key: 'flow', rule: 'subflowSelf' }]);
    expect(nodeSettingProblems(n({}), { flow: 'other' })).toEqual([]);
    expect(nodeSettingProblems(n({ form: '' }))).toEqual([{ key: 'form', rule: 'subflowRecord' }]);
    expect(nodeSettingProblems(n({ form: 'customer' }))).toEqual([{ key: 'record', rule: 'subflowRecord' }]);
    expect(nodeSettingProblems(n({ form: 'customer', record: { var: 'record.customer' } }))).toEqual([]);
    expect(nodeSettingProblems(n({ name: 'Bad Name' }))).toEqual([{ key: 'name', rule: 'key' }]);
    // lint passes the flow's own key
    const s = updateNode(connect(withSubflow(), { source: 'subflow_1', target: 'end' }), 'subflow_1', { flow: 'f' });
    expect(rules(s)).toEqual(['/nodes/2/flow subflowSelf']);
  });

  test('the record: this instance\'s, or another form\'s (form + record); unknown keys stay', () => {
    const n: FlowNode = { id: 's', type: 'subflow', flow: 'x', x_future: 1 };
    expect(subflowOnOtherRecord(n)).toBe(false);
    expect(subflowTargetPatch(n, true)).toEqual({ form: '' });
    const other: FlowNode = { ...n, form: 'customer', record: { var: 'record.customer' } };
    expect(subflowOnOtherRecord(other)).toBe(true);
    expect(subflowTargetPatch(other, true)).toEqual({ form: 'customer' });
    let s = fromDefinition({ ...emptyDefinition('f', { en: 'F' }, 'x'), nodes: [other] });
    s = updateNode(s, 's', subflowTargetPatch(other, false));
    expect(nodeOf(s, 's')).toEqual(n);
  });

  test('the flows offered: published ones other than this flow, the current one kept', () => {
    const flows = [
      { key: 'zeta', label: { en: 'Z' }, published_version: 2 },
      { key: 'self', label: { en: 'Me' }, published_version: 1 },
      { key: 'draft_only', label: { en: 'D' }, published_version: null },
      { key: 'alpha', label: { en: 'A' }, published_version: 1 },
    ];
    expect(subflowChoices(flows, 'self').map((f) => f.key)).toEqual(['alpha', 'zeta']);
    expect(subflowChoices(flows, 'self', 'zeta').map((f) => f.key)).toEqual(['alpha', 'zeta']);
    expect(subflowChoices(flows, 'self', 'draft_only').at(-1)).toEqual({ key: 'draft_only', label: { en: 'D' }, published_version: null, unpublished: true });
    expect(subflowChoices(flows, 'self', 'gone').at(-1)).toEqual({ key: 'gone', unpublished: true });
    expect(subflowChoices(flows, 'self', 'self').at(-1)).toMatchObject({ key: 'self', self: true });
    expect(subflowChoices(flows, 'self', '')).toHaveLength(2);
  });

  test('the CRM storage gap check: a sub-flow not waited for, with a key; no hints, exact round trip', () => {
    const def = crm('storage_gap');
    const s = fromDefinition(def);
    expect(handles(s, 'follow_up')).toEqual(['completed']);
    expect(rules(s)).toEqual([]);
    expect(contextVars([], s).filter((v) => v.startsWith('vars.follow_up'))).toEqual([]);
    expect(toDefinition(s)).toEqual(def);
  });
});

describe('end: terminate', () => {
  test('written only when ticked; the checkbox round-trips to the original node', () => {
    let s = blank();
    const before = nodeOf(s, 'end');
    expect(before).toEqual({ id: 'end', type: 'end' });
    s = updateNode(s, 'end', terminatePatch(true));
    expect(nodeOf(s, 'end')).toEqual({ id: 'end', type: 'end', terminate: true });
    expect(isTerminating(nodeOf(s, 'end')!)).toBe(true);
    s = updateNode(s, 'end', terminatePatch(false));
    expect(nodeOf(s, 'end')).toEqual(before);
    expect(isTerminating(nodeOf(s, 'end')!)).toBe(false);
    expect(isTerminating({ id: 'x', type: 'task', terminate: true })).toBe(false);
  });

  test('the CRM storage gap follow-up: terminating ends round-trip', () => {
    const def = crm('storage_gap_follow_up');
    const s = fromDefinition(def);
    expect(s.nodes.filter((n) => isTerminating(n.data.node)).map((n) => n.id)).toEqual(['done', 'closed']);
    expect(rules(s)).toEqual([]);
    expect(toDefinition(s)).toEqual(def);
  });
});

describe('task / approval modes', () => {
  test('any, all and sequential; the default is any; an unknown mode is shown as it is', () => {
    expect([...TASK_MODES]).toEqual(['any', 'all', 'sequential']);
    expect(taskModeOf({ id: 'a', type: 'approval' })).toBe('any');
    expect(taskModeOf({ id: 'a', type: 'approval', mode: 'sequential' })).toBe('sequential');
    expect(taskModeOf({ id: 'a', type: 'approval', mode: 'later' })).toBe('later');
  });

  test('sequential is written as the mode and round-trips', () => {
    let s = addNode(blank(), 'approval', { x: 0, y: 0 }).state;
    s = updateNode(s, 'approval_1', { mode: 'sequential' });
    const def = toDefinition(s);
    expect(def.nodes.find((n) => n.id === 'approval_1')?.mode).toBe('sequential');
    expect(toDefinition(fromDefinition(def))).toEqual(def);
  });
});
