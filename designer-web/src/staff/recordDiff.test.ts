import { describe, expect, it } from 'vitest';
import { createBody, mergePatch } from './recordDiff.ts';

describe('mergePatch', () => {
  it('sends changed, new and removed keys only', () => {
    const before = { a: 1, b: 'x', c: [1, 2], d: { p: 1 } };
    const after = { a: 1, b: 'y', c: [1, 2], e: true };
    expect(mergePatch(before, after)).toEqual({ b: 'y', e: true, d: null });
  });
  it('replaces arrays and objects whole when they differ', () => {
    expect(mergePatch({ rows: [{ q: 1 }] }, { rows: [{ q: 2 }] })).toEqual({ rows: [{ q: 2 }] });
  });
  it('is empty when nothing changed', () => {
    expect(mergePatch({ a: { b: 1 } }, { a: { b: 1 } })).toEqual({});
  });
});

describe('createBody', () => {
  it('leaves out server-assigned fields', () => {
    expect(createBody({ serial: 'SO-1', total: 3, name: 'n' }, new Set(['serial', 'total']))).toEqual({ name: 'n' });
  });
});
