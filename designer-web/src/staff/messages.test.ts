import { expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messages } from '../i18n/messages.ts';
import { messages as flows } from '../flows/messages.ts';
import type { Op } from './filters.ts';

const dir = import.meta.dirname;
const all = { ...messages, ...flows };
const has = (k: string) => Boolean(all[k]?.['zh-CN'] && all[k]?.en);

test('every literal message key of the staff pages has zh-CN and en text', () => {
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => /\.tsx?$/.test(n) && !n.includes('.test.'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/'((?:list|common|record|import|history|field|home|login|nav|flows)\.[\w.-]+)'/g)) used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(60);
  expect([...used].filter((k) => !has(k))).toEqual([]);
});

test('filter operators built at run time have text', () => {
  const ops: Op[] = ['eq', 'ne', 'contains', 'starts', 'gt', 'gte', 'lt', 'lte', 'empty', 'notEmpty'];
  expect(ops.map((o) => `op.${o}`).filter((k) => !has(k))).toEqual([]);
});
