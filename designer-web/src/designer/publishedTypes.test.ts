import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FormDefinition } from '../api/types.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { ROOT, fieldByKey, type DesignerState } from './model.ts';
import { addField, remove, renameField, setProp } from './operations.ts';
import { commit, history, undo } from './history.ts';
import { setFieldType } from './typeChange.ts';
import { changesByNode, publishedTypeChanges, storedType } from './publishedTypes.ts';

const FORMS_DIR = resolve(import.meta.dirname, '../../../seed-apps/medical-device-crm/forms');
const serviceOrder = JSON.parse(readFileSync(resolve(FORMS_DIR, 'service_order.json'), 'utf8')) as FormDefinition;

const idOf = (s: DesignerState, key: string) => fieldByKey(s, key)!.id;
const columnId = (s: DesignerState, table: string, col: string) => fieldByKey(s, table)!.columns!.find((c) => c.key === col)!.id;
const paths = (s: DesignerState, published: FormDefinition | null) => publishedTypeChanges(s, published).map((c) => c.path);

describe('draft field types against the published version', () => {
  const published = serviceOrder;
  const draft = () => fromDefinition(published);

  test('nothing without a published version, and nothing when the draft is the published version', () => {
    expect(publishedTypeChanges(draft(), null)).toEqual([]);
    expect(publishedTypeChanges(draft(), undefined)).toEqual([]);
    expect(publishedTypeChanges(draft(), published)).toEqual([]);
  });

  test('a root field whose type changed is named with both types and its canvas node', () => {
    let s = draft();
    s = setFieldType(s, idOf(s, 'fault_code'), 'integer');
    s = setFieldType(s, idOf(s, 'priority'), 'multi_select');
    expect(publishedTypeChanges(s, published)).toEqual([
      { id: idOf(s, 'priority'), path: 'priority', from: { type: 'select' }, to: { type: 'multi_select' } },
      { id: idOf(s, 'fault_code'), path: 'fault_code', from: { type: 'text' }, to: { type: 'integer' } },
    ]);
  });

  test('a change of settings only (length, options, labels) is not a type change', () => {
    let s = draft();
    s = setProp(s, idOf(s, 'fault_code'), ['maxLength'], 3);
    s = setProp(s, idOf(s, 'fault_code'), ['x-label', 'en'], 'Code');
    expect(publishedTypeChanges(s, published)).toEqual([]);
  });

  test('a sub-table column is named as table.column; a table that stopped being one is named alone', () => {
    let s = draft();
    s = setFieldType(s, columnId(s, 'parts_used', 'qty'), 'text');
    expect(publishedTypeChanges(s, published)).toEqual([
      { id: columnId(s, 'parts_used', 'qty'), path: 'parts_used.qty', from: { type: 'integer' }, to: { type: 'text' } },
    ]);
    s = setFieldType(s, idOf(s, 'parts_used'), 'long_text');
    expect(paths(s, published)).toEqual(['parts_used']);
  });

  test('a computed field whose result type changed is a type change', () => {
    const s = draft();
    expect(storedType(fieldByKey(s, 'parts_cost')!.schema)).toEqual({ type: 'computed', result: 'number' });
    const t = setProp(s, idOf(s, 'parts_cost'), ['type'], 'string');
    expect(publishedTypeChanges(t, published)).toEqual([
      { id: idOf(t, 'parts_cost'), path: 'parts_cost', from: { type: 'computed', result: 'number' }, to: { type: 'computed', result: 'string' } },
    ]);
  });

  test('new, removed and renamed fields are not type changes; a new field under an old key is', () => {
    let s = draft();
    s = addField(s, 'number', ROOT, 0, { key: 'extra_number' });
    s = remove(s, idOf(s, 'fault_code'));
    s = renameField(s, idOf(s, 'cause'), 'root_cause');
    expect(paths(s, published)).toEqual([]);
    // Stored records still hold text under `fault_code`.
    s = addField(s, 'number', ROOT, 0, { key: 'fault_code' });
    expect(paths(s, published)).toEqual(['fault_code']);
  });

  test('a field without x-type counts as text, as everywhere in the designer', () => {
    const old: FormDefinition = { key: 'f', label: {}, schema: { type: 'object', properties: { a: { type: 'string' } } } };
    const s = fromDefinition(old);
    expect(paths(s, old)).toEqual([]);
    expect(paths(setFieldType(s, idOf(s, 'a'), 'date'), old)).toEqual(['a']);
  });

  test('undo brings the published type back, and publishing the draft ends the warning', () => {
    const h = commit(history(draft()), setFieldType(draft(), idOf(draft(), 'satisfaction'), 'text'));
    expect(paths(h.present, published)).toEqual(['satisfaction']);
    expect(paths(undo(h).present, published)).toEqual([]);
    expect(paths(h.present, toDefinition(h.present))).toEqual([]);
  });

  test('changes are looked up by canvas node', () => {
    const s = setFieldType(draft(), idOf(draft(), 'satisfaction'), 'text');
    const m = changesByNode(publishedTypeChanges(s, published));
    expect(m.get(idOf(s, 'satisfaction'))?.to).toEqual({ type: 'text' });
    expect(m.has(idOf(s, 'fault_code'))).toBe(false);
  });
});
