import { expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messages as common } from '../i18n/messages.ts';
import { messages as designer } from '../designer/messages.ts';
import { messages } from './messages.ts';
import { DATE_CHOICES, FILTER_OPS, WHERE_JOINS } from './conditions.ts';
import { AGGS, CHART_KINDS, DIMENSION_DURATION_UNITS, TIME_BUCKETS } from './types.ts';

const dir = import.meta.dirname;
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const all = { ...common, ...designer, ...messages };
const has = (k: string) => Boolean(all[k]?.['zh-CN'] && all[k]?.en);

test('every literal message key of the report pages has zh-CN and en text', () => {
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => /\.tsx?$/.test(n) && !n.endsWith('.test.ts'))) {
    for (const m of read(f).matchAll(/'((?:reports|dashboards|common|list)\.[\w.-]+)'/g)) used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(40);
  expect([...used].filter((k) => !has(k))).toEqual([]);
});

test('keys built at run time have text: aggregations, buckets, chart kinds, operators, issues', () => {
  const keys = [
    ...AGGS.map((a) => `reports.agg.${a}`),
    ...TIME_BUCKETS.map((b) => `reports.bucket.${b}`),
    ...CHART_KINDS.map((k) => `reports.kind.${k}`),
    ...FILTER_OPS.map((o) => `reports.design.op.${o}`),
    ...WHERE_JOINS.map((j) => `reports.design.whereJoin.${j}`),
    ...DIMENSION_DURATION_UNITS.flatMap((u) => [`reports.unit.${u}`, `reports.unitName.${u}`]),
    ...DATE_CHOICES.map((m) => `reports.design.date.${m}`),
    ...['field', 'duration'].map((s) => `reports.design.dimSource.${s}`),
    ...[...read('validate.ts').matchAll(/code: '(\w+)'/g)].map((m) => `reports.design.issue.${m[1]}`),
    ...[...read('dashboard.ts').matchAll(/code: '(\w+)'/g)].map((m) => `dashboards.issue.${m[1]}`),
    ...['dimensions', 'measures', 'filters'].map((z) => `reports.design.${z}`),
  ];
  expect(keys.filter((k) => !has(k))).toEqual([]);
  for (const [k, v] of Object.entries(messages)) {
    expect(k.startsWith('reports.') || k.startsWith('dashboards.'), k).toBe(true);
    expect(v['zh-CN'] && v.en, k).toBeTruthy();
  }
});
