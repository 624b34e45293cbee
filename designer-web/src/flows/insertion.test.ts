import { describe, expect, test } from 'vitest';
import { lint } from './checks.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { NODE_TYPES, type FlowDefinition } from './model.ts';
import { insertOnEdge, insertableTypes } from './insertion.ts';

const DEF: FlowDefinition = {
  key: 'purchase',
  label: { en: 'Purchase' },
  trigger: { type: 'record_created', form: 'order' },
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'manager', type: 'approval', assignee: { initiator: true }, mode: 'any' },
    { id: 'route', type: 'branch' },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { from: 'start', to: 'manager' },
    { from: 'manager', to: 'route', outcome: 'approved' },
    { from: 'manager', to: 'end', outcome: 'rejected' },
    { from: 'route', to: 'end', when: { '>': [{ var: 'record.amount' }, 1000] } },
    { from: 'route', to: 'end', default: true },
  ],
  layout: { start: { x: 0, y: 0 }, manager: { x: 0, y: 200 }, route: { x: 0, y: 400 }, end: { x: 100, y: 600 } },
};

describe('inserting a node on an edge', () => {
  test('an approval on a rejected edge: the edge keeps its outcome, the approval goes on when approved', () => {
    const s = fromDefinition(DEF);
    const r = insertOnEdge(s, 'e2', 'approval')!;
    expect(r.id).toBe('approval_1');
    const def = toDefinition(r.state);
    expect(def.edges).toEqual([
      { from: 'start', to: 'manager' },
      { from: 'manager', to: 'route', outcome: 'approved' },
      { from: 'manager', to: 'approval_1', outcome: 'rejected' },
      { from: 'route', to: 'end', when: { '>': [{ var: 'record.amount' }, 1000] } },
      { from: 'route', to: 'end', default: true },
      { from: 'approval_1', to: 'end', outcome: 'approved' },
    ]);
    expect(def.nodes.find((n) => n.id === 'approval_1')).toMatchObject({ type: 'approval', assignee: { initiator: true } });
    // halfway, selected alone; the edges keep their handles
    expect(def.layout!.approval_1).toEqual({ x: 50, y: 400 });
    expect(r.state.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['approval_1']);
    const byId = new Map(r.state.edges.map((e) => [e.id, e]));
    expect(byId.get('e2')).toMatchObject({ source: 'manager', target: 'approval_1', sourceHandle: 'rejected' });
    expect(r.state.edges.at(-1)).toMatchObject({ source: 'approval_1', target: 'end', sourceHandle: 'approved' });
    // the new approval still lacks its rejected edge (a hint, as for one added from the palette)
    expect(lint(r.state).filter((p) => p.rule === 'outcomes')).toEqual([{ pointer: '/nodes/4', rule: 'outcomes', message: 'rejected' }]);
  });

  test('a task on a condition edge keeps the condition before it and goes on plainly', () => {
    const r = insertOnEdge(fromDefinition(DEF), 'e3', 'task')!;
    const def = toDefinition(r.state);
    expect(def.edges[3]).toEqual({ from: 'route', to: 'task_1', when: { '>': [{ var: 'record.amount' }, 1000] } });
    expect(def.edges[5]).toEqual({ from: 'task_1', to: 'end' });
    // the default edge stays the default, now into the inserted node
    const d = toDefinition(insertOnEdge(fromDefinition(DEF), 'e4', 'notify')!.state);
    expect(d.edges[4]).toEqual({ from: 'route', to: 'notify_1', default: true });
  });

  test('a branch, a loop, an http node: the edge on is the default, done, ok', () => {
    const s = fromDefinition(DEF);
    const edgeOn = (type: Parameters<typeof insertOnEdge>[2]) => {
      const r = insertOnEdge(s, 'e0', type)!;
      return { data: toDefinition(r.state).edges.at(-1), handle: r.state.edges.at(-1)!.sourceHandle };
    };
    expect(edgeOn('branch')).toEqual({ data: { from: 'branch_1', to: 'manager', default: true }, handle: null });
    expect(edgeOn('loop')).toEqual({ data: { from: 'loop_1', to: 'manager' }, handle: 'done' });
    expect(edgeOn('http')).toEqual({ data: { from: 'http_1', to: 'manager' }, handle: 'ok' });
    expect(edgeOn('subflow')).toEqual({ data: { from: 'subflow_1', to: 'manager' }, handle: 'completed' });
  });

  test('ids follow the palette; unknown edges and types that cannot sit between two nodes are refused', () => {
    const s = fromDefinition({ ...DEF, nodes: [...DEF.nodes, { id: 'approval_1', type: 'approval' }] });
    expect(insertOnEdge(s, 'e0', 'approval')!.id).toBe('approval_2');
    expect(insertOnEdge(s, 'e99', 'task')).toBeNull();
    for (const t of ['start', 'end', 'reject'] as const) expect(insertOnEdge(s, 'e0', t)).toBeNull();
  });
});

describe('the kinds the "+" menu offers', () => {
  test("the palette's kinds that fit between two nodes, as the trigger allows", () => {
    const kinds = insertableTypes({ type: 'record_created' });
    expect(kinds).toEqual(NODE_TYPES.filter((t) => !['start', 'end', 'reject'].includes(t)));
    expect(insertableTypes({ type: 'before_write' })).toEqual(['branch', 'set_var', 'query']);
  });
});
