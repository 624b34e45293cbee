import { expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELD_TYPES } from '../forms/model.ts';
import { messages as common } from '../i18n/messages.ts';
import { messages } from './messages.ts';

test('every literal designer message key used in the designer has zh-CN and en text', () => {
  const dir = import.meta.dirname;
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tsx'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/'((?:designer|common)\.[\w.-]+)'/g)) used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(50);
  const all = { ...common, ...messages };
  const missing = [...used].filter((k) => !all[k]?.['zh-CN'] || !all[k]?.en);
  expect(missing).toEqual([]);
  for (const t of [...FIELD_TYPES, 'group', 'row']) expect(messages[`designer.palette.${t}`], t).toBeTruthy();
  for (const [k, v] of Object.entries(messages)) {
    expect(k.startsWith('designer.'), k).toBe(true);
    expect(v['zh-CN'] && v.en, k).toBeTruthy();
  }
});
