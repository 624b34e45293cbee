import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromDefinition, toDefinition } from './definition.ts';
import type { FlowDefinition } from './model.ts';
import { diffFlows, edgeKind, flowDiffIsEmpty, newestFirst, stableJson } from './versions.ts';

const CRM_FLOWS = resolve(import.meta.dirname, '..', '..', '..', 'seed-apps', 'medical-device-crm', 'flows');
const crm = (key: string) => JSON.parse(readFileSync(join(CRM_FLOWS, `${key}.json`), 'utf8')) as FlowDefinition;
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The same object with its keys in reverse order, deeply. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]));
  return v;
}

describe('diffFlows', () => {
  test('a version compared with itself, whatever the key order, has no difference', () => {
    for (const f of readdirSync(CRM_FLOWS).filter((x) => x.endsWith('.json'))) {
      const def = JSON.parse(readFileSync(join(CRM_FLOWS, f), 'utf8')) as FlowDefinition;
      const d = diffFlows(def, reversed(def) as FlowDefinition);
      expect(flowDiffIsEmpty(d), f).toBe(true);
      // the designer's draft of an unchanged flow is no difference either
      expect(flowDiffIsEmpty(diffFlows(def, toDefinition(fromDefinition(def)))), f).toBe(true);
    }
    expect(stableJson({ b: 1, a: [{ y: 2, x: undefined }] })).toBe('{"a":[{"y":2}],"b":1}');
  });

  test('a node whose label and assignee changed is named by id with those attributes', () => {
    const a = crm('qualification_review');
    const b = copy(a);
    const review = b.nodes.find((n) => n.id === 'review')!;
    review.label = { 'zh-CN': '合规复核', en: 'Compliance check' };
    review.assignee = { role: 'quality' };
    const d = diffFlows(a, b);
    expect(d.nodesChanged).toEqual([
      { id: 'review', type: 'approval', label: { 'zh-CN': '合规复核', en: 'Compliance check' }, attributes: ['assignee', 'label'] },
    ]);
    expect(d.nodesAdded).toEqual([]);
    expect(d.nodesRemoved).toEqual([]);
    expect(d.edgesAdded).toEqual([]);
    expect(d.edgesRemoved).toEqual([]);
    expect(d.trigger).toBeNull();
    expect(d.label).toBe(false);
    expect(flowDiffIsEmpty(d)).toBe(false);
  });

  test('a node put between two others: the node and its edges added, the old edge removed', () => {
    const a = crm('qualification_review');
    const b = copy(a);
    b.nodes.splice(1, 0, { id: 'wait', type: 'delay', hours: 1 });
    b.edges[0] = { from: 'start', to: 'wait' };
    b.edges.push({ from: 'wait', to: 'review' });
    b.layout = { ...b.layout, wait: { x: 80, y: 200 } };
    const d = diffFlows(a, b);
    expect(d.nodesAdded).toEqual([{ id: 'wait', type: 'delay' }]);
    expect(d.edgesAdded).toEqual([
      { from: 'start', to: 'wait' },
      { from: 'wait', to: 'review' },
    ]);
    expect(d.edgesRemoved).toEqual([{ from: 'start', to: 'review' }]);
    expect(d.nodesChanged).toEqual([]);
    expect(d.moved).toEqual([]);
    // and back: removed where it was added
    const back = diffFlows(b, a);
    expect(back.nodesRemoved).toEqual([{ id: 'wait', type: 'delay' }]);
    expect(back.edgesRemoved).toEqual(d.edgesAdded);
    expect(back.edgesAdded).toEqual(d.edgesRemoved);
  });

  test('edges: a changed condition is a changed edge; outcomes tell edges between the same nodes apart', () => {
    const a: FlowDefinition = {
      key: 'f',
      label: { en: 'F' },
      trigger: { type: 'record_created', form: 'service_order' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'b', type: 'branch' },
        { id: 'ok', type: 'approval', assignee: { user: 'director' } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'b' },
        { from: 'b', to: 'ok', when: { '==': [{ var: 'record.priority' }, 'urgent'] } },
        { from: 'b', to: 'end', default: true },
        { from: 'ok', to: 'end', outcome: 'approved' },
        { from: 'ok', to: 'end', outcome: 'rejected' },
      ],
    };
    const b = copy(a);
    b.edges[1] = { from: 'b', to: 'ok', when: { '==': [{ var: 'record.priority' }, 'high'] } };
    b.edges[4] = { from: 'ok', to: 'b', outcome: 'rejected' };
    const d = diffFlows(a, b);
    expect(d.edgesChanged).toEqual([{ from: 'b', to: 'ok', kind: 'when', attributes: ['when'] }]);
    expect(d.edgesAdded).toEqual([{ from: 'ok', to: 'b', kind: 'rejected' }]);
    expect(d.edgesRemoved).toEqual([{ from: 'ok', to: 'end', kind: 'rejected' }]);
    // a default edge that gets a condition instead
    const c = copy(a);
    c.edges[2] = { from: 'b', to: 'end', when: { '!': { var: 'record.priority' } } };
    expect(diffFlows(a, c).edgesChanged).toEqual([{ from: 'b', to: 'end', kind: 'when', attributes: ['default', 'when'] }]);
    // two equal edges are two edges
    const twice = { ...a, edges: [...a.edges, { from: 'start', to: 'b' }] };
    expect(diffFlows(a, twice).edgesAdded).toEqual([{ from: 'start', to: 'b' }]);
    expect(edgeKind({ from: 'l', to: 'x', each: true })).toBe('each');
  });

  test('the trigger: the keys that changed, the type and form on each side', () => {
    const a = crm('qualification_review');
    const b = copy(a);
    b.trigger = { type: 'record_deleted', form: 'qualification' };
    expect(diffFlows(a, b).trigger).toEqual({
      keys: ['condition', 'type'],
      from: { type: 'record_created', form: 'qualification' },
      to: { type: 'record_deleted', form: 'qualification' },
    });
    const c = copy(a);
    c.trigger = { ...c.trigger, form: 'customer' };
    expect(diffFlows(a, c).trigger?.keys).toEqual(['form']);
  });

  test('the flow label, moved nodes and other top-level keys', () => {
    const a = crm('qualification_review');
    const b = copy(a);
    b.label = { ...b.label, en: 'Qualification check' };
    b.layout = { ...b.layout, review: { x: 170, y: 100 } };
    b.description = { en: 'changed' };
    const d = diffFlows(a, b);
    expect(d.label).toBe(true);
    expect(d.moved).toEqual(['review']);
    expect(d.other).toEqual(['description']);
    expect(d.nodesChanged).toEqual([]);
    // a node without a stored position on one side is not "moved"
    const noLayout = copy(a);
    delete noLayout.layout;
    expect(diffFlows(noLayout, a).moved).toEqual([]);
    expect(flowDiffIsEmpty(diffFlows(noLayout, a))).toBe(true);
  });

  test('versions are listed newest first', () => {
    const items = [1, 3, 2].map((version) => ({ version, author: 'admin', published_at: `2026-01-0${version}T00:00:00Z` }));
    expect(newestFirst(items).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(items.map((v) => v.version)).toEqual([1, 3, 2]);
  });
});
