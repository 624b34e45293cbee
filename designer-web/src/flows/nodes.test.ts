// Node tests: palette templates and the edges out of loop and http nodes (the other node
// topics: nodes-effects.test.ts, nodes-subflow.test.ts).
import { describe, expect, test } from 'vitest';
import { contextVars } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { addNode, connect, setEachEdge, updateEdge, updateNode } from './operations.ts';
import { edgeHandleOf, edgeRuleProblems, httpOutcomePatch, nodeSettingProblems } from './nodes.ts';
import { crm } from './testFlows.ts';
import { blank, edgesOf, nodeOf, rules } from './testFixtures.ts';

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
