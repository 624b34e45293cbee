import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromDefinition, toDefinition } from './definition.ts';
import { NODE_TYPES, emptyDefinition, type FlowDefinition } from './model.ts';
import { updateNode } from './operations.ts';
import { CRM_FLOWS, EVERY, crm, crmFiles } from './testFlows.ts';

describe('definition ↔ canvas', () => {
  test('every node type is in the example', () => {
    expect(new Set(EVERY.nodes.map((n) => n.type))).toEqual(new Set(NODE_TYPES));
  });

  test('round trip of a definition using every node type is exact', () => {
    const s = fromDefinition(EVERY);
    expect(s.nodes).toHaveLength(EVERY.nodes.length);
    expect(s.edges).toHaveLength(EVERY.edges.length);
    expect(toDefinition(s)).toEqual(EVERY);
    // and again through the canvas a second time
    expect(toDefinition(fromDefinition(toDefinition(s)))).toEqual(EVERY);
  });

  test('approval edges get their outcome as source handle', () => {
    const s = fromDefinition(EVERY);
    const out = s.edges.filter((e) => e.source === 'approve');
    expect(out.map((e) => e.sourceHandle)).toEqual(['approved', 'rejected']);
    expect(s.edges.find((e) => e.source === 'route')?.sourceHandle).toBeNull();
  });

  test('missing layout positions are filled in by layers', () => {
    const def: FlowDefinition = { ...EVERY, layout: { start: { x: 10, y: 20 } } };
    const s = fromDefinition(def);
    expect(s.nodes.find((n) => n.id === 'start')?.position).toEqual({ x: 10, y: 20 });
    expect(s.nodes.find((n) => n.id === 'route')?.position.y).toBe(140);
    const ys = new Set(s.nodes.map((n) => `${n.position.x},${n.position.y}`));
    expect(ys.size).toBe(s.nodes.length); // no two nodes on top of each other
    const back = toDefinition(s);
    expect(Object.keys(back.layout!)).toHaveLength(EVERY.nodes.length);
  });

  test('positions are rounded into the layout', () => {
    const s = fromDefinition(emptyDefinition('f', { en: 'F' }, 'service_order'));
    s.nodes[0]!.position = { x: 10.4, y: 99.6 };
    expect(toDefinition(s).layout!.start).toEqual({ x: 10, y: 100 });
  });
});

describe('the CRM flow files round-trip unchanged', () => {
  test('the six known ones are there (others may be added; every file is checked below)', () => {
    expect(crmFiles).toEqual(expect.arrayContaining([
      'low_stock.json',
      'order_guard.json',
      'qualification_review.json',
      'second_handling.json',
      'service_dispatch.json',
      'warranty_renewal.json',
    ]));
  });

  for (const f of crmFiles) {
    test(f, () => {
      const x = JSON.parse(readFileSync(join(CRM_FLOWS, f), 'utf8')) as FlowDefinition;
      const before = JSON.stringify(x);
      const back = toDefinition(fromDefinition(x));
      expect(back).toEqual(x);
      // and a second time through the canvas; the input itself is not modified
      expect(toDefinition(fromDefinition(back))).toEqual(x);
      expect(JSON.stringify(x)).toBe(before);
    });
  }

  test('the round trip check can fail: a dropped key is noticed', () => {
    const x = crm('order_guard');
    const s = fromDefinition(x);
    const broken = updateNode(s, 'licences', { limit: undefined });
    expect(toDefinition(broken)).not.toEqual(x);
    expect(toDefinition({ ...s, extra: {} })).not.toEqual(x); // description lost
  });

  test('unknown node types and keys are kept', () => {
    const x: FlowDefinition = {
      ...crm('low_stock'),
      nodes: [...crm('low_stock').nodes, { id: 'later', type: 'webhook' as never, url: 'https://example.com', x_future: [1, { a: 2 }] }],
      edges: [...crm('low_stock').edges, { from: 'tell', to: 'later', x_edge: true }],
    };
    x.layout = { ...x.layout, later: { x: 600, y: 0 } };
    x.trigger = { ...x.trigger, x_trigger: 'kept' };
    expect(toDefinition(fromDefinition(x))).toEqual(x);
  });
});
