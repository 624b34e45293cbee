import { describe, expect, test } from 'vitest';
import { FIELD_TYPES } from '../forms/model.ts';
import { toDefinition } from './definition.ts';
import { typeTemplate } from './fieldTypes.ts';
import { ROOT, emptyState, fieldByKey, type DesignerState } from './model.ts';
import { addField, renameField, setOptions, setProp, setRequired } from './operations.ts';
import { convertFieldSchema, fieldTypeChange, setFieldType } from './typeChange.ts';

const idOf = (s: DesignerState, key: string) => fieldByKey(s, key)!.id;
const schemaOf = (s: DesignerState) => toDefinition(s).schema;
const label = { 'zh-CN': '备注', en: 'Note' };
const help = { 'zh-CN': '请简要说明', en: 'Keep it short' };

/** A form with one field of `type`, keyed `f`, labelled, with help text, required. */
function oneField(type: (typeof FIELD_TYPES)[number]): DesignerState {
  let s = emptyState('visit', { en: 'Visit' });
  s = addField(s, type, ROOT, 0, { key: 'f', label });
  s = setProp(s, idOf(s, 'f'), ['x-help'], help);
  return setRequired(s, idOf(s, 'f'), true);
}

describe('drop a field, change its type → the schema', () => {
  test('text → long text keeps the key, labels, help, required flag and maximum length', () => {
    let s = oneField('text');
    s = setProp(s, idOf(s, 'f'), ['maxLength'], 100);
    s = setProp(s, idOf(s, 'f'), ['minLength'], 2);
    s = setProp(s, idOf(s, 'f'), ['default'], 'n/a');
    const r = fieldTypeChange(s, idOf(s, 'f'), 'long_text');
    expect(r.dropped).toEqual([]);
    expect(schemaOf(r.state)).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        f: { type: 'string', 'x-type': 'long_text', 'x-label': label, minLength: 2, maxLength: 100, 'x-help': help, default: 'n/a' },
      },
      required: ['f'],
      additionalProperties: false,
    });
    // The same node: selection, layout place and key stay.
    expect(fieldByKey(r.state, 'f')!.id).toBe(idOf(s, 'f'));
    expect(toDefinition(r.state).layout).toEqual(toDefinition(s).layout);
  });

  test('text without a maximum length takes long text’s own', () => {
    const s = oneField('text');
    expect(schemaOf(setFieldType(s, idOf(s, 'f'), 'long_text')).properties.f.maxLength).toBe(typeTemplate('long_text').maxLength);
  });

  test('select → multi-select keeps the options (enum moves into items) and turns the default into a list', () => {
    let s = oneField('select');
    const options = [
      { value: 'won', label: { 'zh-CN': '赢单', en: 'Won' } },
      { value: 'lost', label: { 'zh-CN': '丢单', en: 'Lost' } },
    ];
    s = setOptions(s, idOf(s, 'f'), options);
    s = setProp(s, idOf(s, 'f'), ['default'], 'won');
    const r = fieldTypeChange(s, idOf(s, 'f'), 'multi_select');
    expect(r.dropped).toEqual([]);
    expect(schemaOf(r.state).properties.f).toEqual({
      type: 'array',
      'x-type': 'multi_select',
      'x-label': label,
      'x-help': help,
      'x-options': { won: options[0]!.label, lost: options[1]!.label },
      default: ['won'],
      items: { type: 'string', enum: ['won', 'lost'] },
      uniqueItems: true,
    });
    // And back: the options return to `enum`, a one-element default to a value.
    const back = fieldTypeChange(r.state, idOf(s, 'f'), 'select');
    expect(back.dropped).toEqual([]);
    expect(schemaOf(back.state).properties.f).toEqual({
      type: 'string',
      'x-type': 'select',
      'x-label': label,
      'x-help': help,
      'x-options': { won: options[0]!.label, lost: options[1]!.label },
      default: 'won',
      enum: ['won', 'lost'],
    });
  });

  test('number → integer keeps minimum and maximum; a fractional default is dropped', () => {
    let s = oneField('number');
    s = setProp(s, idOf(s, 'f'), ['minimum'], 0);
    s = setProp(s, idOf(s, 'f'), ['maximum'], 10);
    s = setProp(s, idOf(s, 'f'), ['default'], 2.5);
    const r = fieldTypeChange(s, idOf(s, 'f'), 'integer');
    expect(r.dropped).toEqual(['default']);
    expect(schemaOf(r.state).properties.f).toEqual({
      type: 'integer',
      'x-type': 'integer',
      'x-label': label,
      'x-help': help,
      minimum: 0,
      maximum: 10,
    });
    expect(schemaOf(r.state).required).toEqual(['f']);
  });

  test('select → number drops the options and says so', () => {
    let s = oneField('select');
    s = setProp(s, idOf(s, 'f'), ['default'], 'option_1');
    const r = fieldTypeChange(s, idOf(s, 'f'), 'number');
    expect(r.dropped.sort()).toEqual(['default', 'options']);
    expect(schemaOf(r.state).properties.f).toEqual({ type: 'number', 'x-type': 'number', 'x-label': label, 'x-help': help });
  });

  test('money → text drops the currency and the limits; the unique flag stays on a text', () => {
    let s = oneField('money');
    s = setProp(s, idOf(s, 'f'), ['maximum'], 1000);
    s = setProp(s, idOf(s, 'f'), ['x-unique'], true);
    const r = fieldTypeChange(s, idOf(s, 'f'), 'text');
    expect(r.dropped.sort()).toEqual(['maximum', 'minimum', 'x-currency']);
    expect(schemaOf(r.state).properties.f).toEqual({ type: 'string', 'x-type': 'text', 'x-label': label, 'x-help': help, 'x-unique': true });
  });

  test('text → attachment: nothing to index any more, the composite index naming it goes', () => {
    let s = oneField('text');
    s = addField(s, 'date', ROOT, 1, { key: 'on' });
    s = setProp(s, idOf(s, 'f'), ['x-indexed'], true);
    s = setProp(s, idOf(s, 'f'), ['maxLength'], 20);
    s = { ...s, defExtra: { indexes: [['f', 'on'], ['on']] } };
    const r = fieldTypeChange(s, idOf(s, 'f'), 'attachment');
    expect(r.dropped.sort()).toEqual(['indexes', 'maxLength', 'x-indexed']);
    const def = toDefinition(r.state);
    expect(def.indexes).toEqual([['on']]);
    expect(def.schema.properties.f).toEqual({ ...typeTemplate('attachment'), 'x-label': label, 'x-help': help });
    expect(def.schema.$defs.file).toBeDefined();
  });

  test('to a server-assigned type the required flag goes (the server fills the field in)', () => {
    const s = oneField('text');
    const r = fieldTypeChange(s, idOf(s, 'f'), 'serial');
    expect(r.dropped).toEqual(['required']);
    expect(schemaOf(r.state).required).toBeUndefined();
    expect(schemaOf(r.state).properties.f).toEqual({ ...typeTemplate('serial'), 'x-label': label, 'x-help': help });
    // A computed field keeps the JSON type of what it replaces.
    const n = oneField('integer');
    expect(schemaOf(setFieldType(n, idOf(n, 'f'), 'computed')).properties.f.type).toBe('integer');
  });

  test('a sub-table turned into text loses its columns; text into a sub-table starts without', () => {
    let s = oneField('sub_table');
    s = addField(s, 'text', idOf(s, 'f'), 0, { key: 'part' });
    const r = fieldTypeChange(s, idOf(s, 'f'), 'text');
    expect(r.dropped).toEqual(['columns']);
    expect(fieldByKey(r.state, 'f')!.columns).toBeUndefined();
    expect(schemaOf(r.state).properties.f).toEqual({ type: 'string', 'x-type': 'text', 'x-label': label, 'x-help': help });
    const back = setFieldType(r.state, idOf(s, 'f'), 'sub_table');
    expect(fieldByKey(back, 'f')!.columns).toEqual([]);
    expect(schemaOf(back).properties.f.items).toEqual({ type: 'object', additionalProperties: false, properties: {} });
  });

  test('a sub-table column changes type in place and keeps its required flag; it cannot become a sub-table', () => {
    let s = oneField('sub_table');
    s = addField(s, 'text', idOf(s, 'f'), 0, { key: 'qty' });
    const col = fieldByKey(s, 'f')!.columns![0]!.id;
    s = setRequired(s, col, true);
    s = setProp(s, col, ['maxLength'], 5);
    const r = fieldTypeChange(s, col, 'integer');
    expect(r.dropped).toEqual(['maxLength']);
    const items = schemaOf(r.state).properties.f.items;
    expect(items.properties.qty).toEqual({ type: 'integer', 'x-type': 'integer', 'x-label': { 'zh-CN': '单行文本1', en: 'Text 1' } });
    expect(items.required).toEqual(['qty']);
    expect(fieldTypeChange(s, col, 'sub_table').state).toBe(s);
  });

  test('the same type, an unknown node or a container change nothing', () => {
    const s = oneField('text');
    expect(fieldTypeChange(s, idOf(s, 'f'), 'text')).toEqual({ state: s, dropped: [] });
    expect(fieldTypeChange(s, 'nope', 'number').state).toBe(s);
  });

  test('the input state is never changed', () => {
    let s = oneField('select');
    s = renameField(s, idOf(s, 'f'), 'outcome');
    const before = JSON.stringify(s);
    for (const t of FIELD_TYPES) fieldTypeChange(s, idOf(s, 'outcome'), t);
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('every type into every other', () => {
  for (const from of FIELD_TYPES) {
    test(`${from} → each type: a schema of the new type with the field's label and help`, () => {
      const s = oneField(from);
      for (const to of FIELD_TYPES) {
        const { schema, dropped } = convertFieldSchema(fieldByKey(s, 'f')!.schema, to);
        expect(schema['x-type']).toBe(to);
        expect(schema['x-label']).toEqual(label);
        expect(schema['x-help']).toEqual(help);
        // Everything the new type's template needs is there, with the template's JSON type.
        for (const k of Object.keys(typeTemplate(to))) expect(k in schema, `${from} → ${to}: ${k}`).toBe(true);
        if (to !== 'computed') expect(schema.type).toEqual(typeTemplate(to).type);
        // Structure is never reported as a lost setting.
        for (const k of ['type', 'x-type', 'items', 'readOnly', '$ref', 'properties']) expect(dropped).not.toContain(k);
        if (to === from) expect(dropped).toEqual([]);
      }
    });
  }
});
