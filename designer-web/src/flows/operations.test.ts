import { describe, expect, test } from 'vitest';
import { lint } from './checks.ts';
import { condsLogic } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition } from './model.ts';
import { makeAssignee } from './nodeSettings.ts';
import { addNode, canConnect, connect, removeNode, renameNode, setDefaultEdge, updateEdge, updateNode } from './operations.ts';
import { EVERY, crm } from './testFlows.ts';

describe('editing', () => {
  test('palette → connect → the scenario flow of the e2e test', () => {
    let s = fromDefinition(emptyDefinition('urgent', { en: 'Urgent' }, 'service_order'));
    expect(s.edges).toEqual([]);
    const a = addNode(s, 'approval', { x: 0, y: 120 });
    s = a.state;
    expect(a.id).toBe('approval_1');
    const u = addNode(s, 'update_record', { x: 0, y: 240 });
    s = u.state;
    s = updateNode(s, 'approval_1', { assignee: makeAssignee('user', 'director') });
    s = updateNode(s, 'update_record_1', { set: { status: 'dispatched' } });
    s = connect(s, { source: 'start', target: 'approval_1' });
    s = connect(s, { source: 'approval_1', sourceHandle: 'approved', target: 'update_record_1' });
    s = connect(s, { source: 'approval_1', sourceHandle: 'rejected', target: 'end' });
    s = connect(s, { source: 'update_record_1', target: 'end' });
    s = { ...s, trigger: { type: 'record_created', form: 'service_order', condition: condsLogic([{ var: 'record.priority', op: 'eq', value: 'urgent' }]) } };
    const def = toDefinition(s);
    expect(def.trigger.condition).toEqual({ '==': [{ var: 'record.priority' }, 'urgent'] });
    expect(def.edges).toEqual([
      { from: 'start', to: 'approval_1' },
      { from: 'approval_1', to: 'update_record_1', outcome: 'approved' },
      { from: 'approval_1', to: 'end', outcome: 'rejected' },
      { from: 'update_record_1', to: 'end' },
    ]);
    expect(def.nodes.find((n) => n.id === 'approval_1')).toEqual({
      id: 'approval_1',
      type: 'approval',
      label: { 'zh-CN': '审批', en: 'Approval' },
      assignee: { user: 'director' },
      mode: 'any',
    });
    expect(lint(s)).toEqual([]);
  });

  test('connections that make no sense are refused', () => {
    const s = fromDefinition(EVERY);
    expect(canConnect(s, { source: 'start', target: 'start' })).toBe(false);
    expect(canConnect(s, { source: 'done', target: 'route' })).toBe(false);
    expect(canConnect(s, { source: 'route', target: 'start' })).toBe(false);
    expect(canConnect(s, { source: 'start', target: 'route' })).toBe(false); // exists
    expect(canConnect(s, { source: 'start', target: 'done' })).toBe(true);
    expect(connect(s, { source: 'done', target: 'route' })).toBe(s);
  });

  test('the first edge out of a branch is the default; the default moves', () => {
    let s = fromDefinition(emptyDefinition('f', { en: 'F' }, 'x'));
    s = addNode(s, 'branch', { x: 0, y: 0 }).state;
    s = addNode(s, 'task', { x: 0, y: 0 }).state;
    s = connect(s, { source: 'branch_1', target: 'end' });
    s = connect(s, { source: 'branch_1', target: 'task_1' });
    const [first, second] = s.edges.filter((e) => e.source === 'branch_1');
    expect(first!.data.edge).toEqual({ default: true });
    expect(second!.data.edge).toEqual({});
    s = updateEdge(s, second!.id, { when: { '==': [{ var: 'record.kind' }, 'repair'] } });
    s = setDefaultEdge(s, second!.id);
    const out = s.edges.filter((e) => e.source === 'branch_1').map((e) => e.data.edge);
    expect(out).toEqual([{}, { default: true }]);
  });

  test('update and rename keep edges; undefined removes a key', () => {
    let s = fromDefinition(EVERY);
    s = updateNode(s, 'approve', { deadline: undefined, mode: 'any' });
    s = renameNode(s, 'approve', 'director_ok');
    const def = toDefinition(s);
    const n = def.nodes.find((x) => x.id === 'director_ok')!;
    expect(n.deadline).toBeUndefined();
    expect('deadline' in n).toBe(false);
    expect(n.mode).toBe('any');
    expect(def.edges.filter((e) => e.from === 'director_ok')).toHaveLength(2);
    expect(def.layout!.director_ok).toEqual({ x: -200, y: 240 });
    // taken or invalid ids are refused
    expect(renameNode(s, 'director_ok', 'done')).toBe(s);
    expect(renameNode(s, 'director_ok', 'bad id')).toBe(s);
  });

  test('removing a node removes its edges', () => {
    const s = removeNode(fromDefinition(EVERY), 'fork');
    expect(s.edges.some((e) => e.source === 'fork' || e.target === 'fork')).toBe(false);
    expect(s.nodes).toHaveLength(EVERY.nodes.length - 1);
  });
});

describe('guards, queries, reject', () => {
  test('reject is an end: nothing leaves it', () => {
    const s = fromDefinition(crm('order_guard'));
    expect(canConnect(s, { source: 'refuse', target: 'end' })).toBe(false);
    expect(canConnect(s, { source: 'licences', target: 'refuse' })).toBe(true);
  });
});

describe('assignees through a reference, update_record on another record', () => {
  test('update_record form + record survive editing the set list', () => {
    const s = fromDefinition(crm('qualification_review'));
    const next = updateNode(s, 'customer_valid', { set: { compliance_status: 'expiring' } });
    const n = toDefinition(next).nodes.find((x) => x.id === 'customer_valid')!;
    expect(n.form).toBe('customer');
    expect(n.record).toEqual({ var: 'record.customer' });
    expect(n.set).toEqual({ compliance_status: 'expiring' });
  });
});
