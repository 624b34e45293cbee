import { describe, expect, it } from 'vitest';
import type { RecordItem } from '../api/types.ts';
import { fieldsOf } from '../forms/model.ts';
import { translate } from '../i18n/core.ts';
import { messages } from '../i18n/messages.ts';
import { describeSort } from './listText.ts';
import { SYSTEM_COLUMNS, fieldColumns, isSystemColumn, listColumns, systemText } from './systemColumns.ts';

const record: RecordItem = {
  id: 7,
  form_version: 1,
  row_version: 3,
  created_at: '2026-03-01T08:00:00Z',
  created_by: 'engineer1',
  updated_at: '2026-03-02T09:30:00Z',
  updated_by: 'manager_east',
  owner: 'engineer1',
  data: { serial: 'SO-1' },
} as RecordItem;

const en = (k: string, v?: Record<string, string | number>) => translate(messages, 'en', k, v);
const zh = (k: string, v?: Record<string, string | number>) => translate(messages, 'zh-CN', k, v);

describe('system columns', () => {
  it('are the server’s names for the record columns staff care about', () => {
    expect([...SYSTEM_COLUMNS]).toEqual(['_created_at', '_created_by', '_updated_at', '_updated_by', '_owner']);
    expect(isSystemColumn('_created_at')).toBe(true);
    expect(isSystemColumn('created_at')).toBe(false);
    expect(isSystemColumn('_id')).toBe(false);
  });

  it('follow the form’s fields in the column choice, labelled in both languages', () => {
    const cols = listColumns(fieldsOf({ properties: { serial: { 'x-type': 'serial', type: 'string' } } }));
    expect(cols.map((c) => c.key)).toEqual(['serial', ...SYSTEM_COLUMNS]);
    for (const c of cols.slice(1)) {
      expect(c.schema['x-label']['zh-CN']).toBeTruthy();
      expect(c.schema['x-label'].en).toBeTruthy();
    }
  });

  it('never go into the list API’s fields parameter', () => {
    expect(fieldColumns(['serial', '_created_at', 'status', '_owner'])).toEqual(['serial', 'status']);
  });

  it('read their values from the record itself', () => {
    expect(systemText(record, '_created_by', 'en')).toBe('engineer1');
    expect(systemText(record, '_updated_by', 'en')).toBe('manager_east');
    expect(systemText(record, '_owner', 'en')).toBe('engineer1');
    const at = systemText(record, '_updated_at', 'en');
    expect(at).toBe(new Date('2026-03-02T09:30:00Z').toLocaleString('en', { dateStyle: 'short', timeStyle: 'medium' }));
    expect(systemText({ ...record, owner: '' } as RecordItem, '_owner', 'en')).toBe('');
  });

  it('name sort keys by their labels', () => {
    const byKey = new Map(listColumns([]).map((f) => [f.key, f]));
    expect(describeSort('-_created_at,_owner', byKey, en, 'en')).toBe('Created at descending, Record owner ascending');
    expect(describeSort('_updated_by', byKey, zh, 'zh-CN')).toBe('修改人 升序');
  });
});
