// Node tests: the subflow node, end's terminate and the task / approval modes.
import { describe, expect, test } from 'vitest';
import { contextVars } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, type FlowNode, type FlowState } from './model.ts';
import { addNode, canConnect, connect, updateEdge, updateNode } from './operations.ts';
import {
  TASK_MODES,
  edgeHandleOf,
  edgeRuleProblems,
  handleConnectable,
  isTerminating,
  nodeSettingProblems,
  nodeVars,
  subflowChoices,
  subflowOnOtherRecord,
  subflowOutcomeOf,
  subflowOutcomePatch,
  subflowTargetPatch,
  subflowWaitPatch,
  subflowWaits,
  taskModeOf,
  terminatePatch,
} from './nodes.ts';
import { crm } from './testFlows.ts';
import { blank, edgesOf, nodeOf, rules } from './testFixtures.ts';

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
