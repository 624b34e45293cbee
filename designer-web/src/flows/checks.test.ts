import { describe, expect, test } from 'vitest';
import { disallowedNodes, lint, locateErrors, locatePointer, onlyUnstaffed } from './checks.ts';
import { contextVars } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, switchTriggerType } from './model.ts';
import { addNode, connect, removeNode } from './operations.ts';
import { EVERY, crm } from './testFlows.ts';

describe('editing', () => {
  test('lint finds a missing outcome and default', () => {
    let s = removeNode(fromDefinition(EVERY), 'no'); // (reject: only in guards, see below)
    s = { ...s, edges: s.edges.filter((e) => !(e.source === 'approve' && e.data.edge.outcome === 'rejected') && !e.data.edge.default) };
    expect(lint(s).map((p) => `${p.pointer} ${p.rule}`)).toEqual(['/nodes/1 default', '/nodes/2 outcomes']);
  });
});

describe('error pointers', () => {
  const s = fromDefinition(EVERY);
  const nodeIds = s.nodes.map((n) => n.id);
  const edgeIds = s.edges.map((e) => e.id);
  test('nodes, edges, trigger, flow', () => {
    expect(locatePointer('/nodes/2/assignee', nodeIds, edgeIds)).toEqual({ kind: 'node', id: 'approve', path: ['assignee'] });
    expect(locatePointer('/nodes/0', nodeIds, edgeIds)).toEqual({ kind: 'node', id: 'start', path: [] });
    expect(locatePointer('/edges/1/when', nodeIds, edgeIds)).toEqual({ kind: 'edge', id: 'e1', path: ['when'] });
    expect(locatePointer('/trigger/form', nodeIds, edgeIds)).toEqual({ kind: 'trigger', path: ['form'] });
    expect(locatePointer('/layout/wait/x', nodeIds, edgeIds)).toEqual({ kind: 'node', id: 'wait', path: ['layout', 'x'] });
    expect(locatePointer('/key', nodeIds, edgeIds)).toEqual({ kind: 'flow', path: ['key'] });
    expect(locatePointer('', nodeIds, edgeIds)).toEqual({ kind: 'flow', path: [] });
    expect(locatePointer('/nodes/99/x', nodeIds, edgeIds)).toEqual({ kind: 'flow', path: ['nodes', '99', 'x'] });
    expect(locatePointer('/nodes', nodeIds, edgeIds)).toEqual({ kind: 'flow', path: ['nodes'] });
  });

  test('errors are grouped; edge ids follow canvas edits', () => {
    let t = removeNode(s, 'start'); // edges shift: e0 is gone
    t = connect(t, { source: 'done', target: 'route' }); // refused
    const located = locateErrors(t, [
      { pointer: '/nodes/0/assignee', message: 'a' },
      { pointer: '/edges/0/when', message: 'b' },
      { pointer: '/trigger/condition', message: 'c' },
      { pointer: '/nodes', message: 'd' },
    ]);
    expect([...located.nodes.keys()]).toEqual(['route']);
    expect([...located.edges.keys()]).toEqual(['e1']);
    expect(located.trigger.map((e) => e.message)).toEqual(['c']);
    expect(located.flow.map((e) => e.message)).toEqual(['d']);
  });
});

describe('guards, queries, reject', () => {
  test('order_guard: no warnings; a task in a guard is flagged at /nodes/N/type', () => {
    const s = fromDefinition(crm('order_guard'));
    expect(lint(s)).toEqual([]);
    expect(disallowedNodes(s).size).toBe(0);
    const r = addNode(s, 'task', { x: 0, y: 0 });
    const i = r.state.nodes.findIndex((n) => n.id === r.id);
    expect(lint(r.state)).toContainEqual({ pointer: `/nodes/${i}/type`, rule: 'guard', message: 'task' });
    expect([...disallowedNodes(r.state)]).toEqual([r.id]);
    // the same flow under another trigger: its reject nodes are the ones out of place
    const other = { ...s, trigger: switchTriggerType(s.trigger, 'record_created') };
    const rejects = crm('order_guard').nodes.filter((n) => n.type === 'reject').map((n) => n.id);
    expect(rejects).toContain('refuse');
    expect([...disallowedNodes(other)]).toEqual(rejects);
    expect(lint(other).map((p) => p.rule)).toEqual(rejects.map(() => 'guardOnly'));
  });
});

describe('triggers', () => {
  test('lint: schedule needs cron, not a form; date_field needs a field', () => {
    const s = fromDefinition(emptyDefinition('t', { en: 'T' }, ''));
    expect(lint({ ...s, trigger: { type: 'schedule', cron: '0 9 * * 1' } })).toEqual([]);
    expect(lint({ ...s, trigger: { type: 'schedule', cron: ' ' } }).map((p) => p.pointer)).toEqual(['/trigger/cron']);
    expect(lint({ ...s, trigger: { type: 'date_field', form: 'device', offset_days: -30 } }).map((p) => p.pointer)).toEqual(['/trigger/field']);
    expect(lint(fromDefinition(crm('warranty_renewal')))).toEqual([]);
  });
});

describe('the record_deleted trigger', () => {
  test('a record_deleted flow round-trips and lints like record_created', () => {
    const def = { ...emptyDefinition('on_delete', { en: 'On delete' }, 'complaint'), edges: [{ from: 'start', to: 'end' }] };
    def.trigger = { type: 'record_deleted', form: 'complaint', condition: { '==': [{ var: 'record.kind' }, 'complaint'] } };
    const s = fromDefinition(def);
    expect(toDefinition(s)).toEqual(def);
    expect(lint(s)).toEqual([]);
    expect(lint({ ...s, trigger: { type: 'record_deleted', form: '' } }).map((p) => p.pointer)).toEqual(['/trigger/form']);
    expect(contextVars(['kind'], s)).toContain('record.kind');
  });
});

test('a publish refused only for assignees nobody can act as may be published anyway', () => {
  expect(onlyUnstaffed([{ pointer: '/nodes/1/assignee/role', rule: 'nobody', message: 'x' }, { pointer: '/nodes/2/assignee/role', rule: 'approve', message: 'y' }])).toBe(true);
  expect(onlyUnstaffed([{ pointer: '/nodes/1/assignee/role', rule: 'nobody', message: 'x' }, { pointer: '/edges/0/to', rule: 'exists', message: 'z' }])).toBe(false);
  expect(onlyUnstaffed([])).toBe(false);
});
