import { describe, expect, test } from 'vitest';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition } from './model.ts';
import { addNode } from './operations.ts';

describe('guards, queries, reject', () => {
  test('palette templates for query and reject', () => {
    const s = fromDefinition(emptyDefinition('g', { en: 'G' }, 'sales_order'));
    const q = addNode(s, 'query', { x: 0, y: 0 });
    const r = addNode(q.state, 'reject', { x: 0, y: 0 });
    const def = toDefinition(r.state);
    expect(def.nodes.find((n) => n.id === 'query_1')).toEqual({ id: 'query_1', type: 'query', form: '', name: '' });
    expect(def.nodes.find((n) => n.id === 'reject_1')).toEqual({ id: 'reject_1', type: 'reject', message: '' });
  });
});
