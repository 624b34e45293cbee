import { describe, expect, it } from 'vitest';
import { translate } from '../i18n/core.ts';
import { messages } from '../i18n/messages.ts';
import { fieldMap } from '../forms/model.ts';
import { describeCondition, describeSort } from './listText.ts';

const byKey = fieldMap({
  properties: {
    priority: { 'x-type': 'select', enum: ['high'], 'x-label': { 'zh-CN': '紧急程度', en: 'Priority' }, 'x-options': { high: { 'zh-CN': '高', en: 'High' } } },
    reported_at: { 'x-type': 'datetime', 'x-label': { 'zh-CN': '报修时间', en: 'Reported at' } },
    tags: { 'x-type': 'multi_select', items: { enum: ['a'] }, 'x-options': { a: { en: 'Alpha', 'zh-CN': '甲' } } },
    engineer: { 'x-type': 'member', 'x-label': { en: 'Engineer' } },
  },
});
const en = (k: string, v?: Record<string, string | number>) => translate(messages, 'en', k, v);
const zh = (k: string, v?: Record<string, string | number>) => translate(messages, 'zh-CN', k, v);

describe('list text', () => {
  it('reads a multi-key sort in both languages', () => {
    expect(describeSort('-reported_at,priority', byKey, en, 'en')).toBe('Reported at descending, Priority ascending');
    expect(describeSort('-reported_at,priority', byKey, zh, 'zh-CN')).toBe('报修时间 降序，紧急程度 升序');
    expect(describeSort('_id', byKey, en, 'en')).toBe('_id ascending');
    expect(describeSort(undefined, byKey, en, 'en')).toBe('Newest first');
  });

  it('reads conditions with option labels', () => {
    expect(describeCondition({ field: 'priority', op: 'eq', value: 'high' }, byKey, en, 'en')).toBe('Priority equals High');
    expect(describeCondition({ field: 'priority', op: 'eq', value: 'high' }, byKey, zh, 'zh-CN')).toBe('紧急程度 等于 高');
    expect(describeCondition({ field: 'tags', op: 'contains', value: 'a' }, byKey, en, 'en')).toBe('tags contains Alpha');
    expect(describeCondition({ field: 'engineer', op: 'empty' }, byKey, en, 'en')).toBe('Engineer is empty');
  });
});
