import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FormDefinition } from '../api/types.ts';
import { requiredFields, ruleShows } from '../forms/model.ts';
import { validateRecord } from '../forms/validate.ts';
import { ROOT, emptyState, fieldByKey, findNode, type DesignerState } from './model.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import {
  addContainer,
  addField,
  move,
  remove,
  renameField,
  setLabel,
  setOptions,
  setProp,
  setRequired,
  unwrap,
  wrap,
} from './operations.ts';
import { addRequiredWhen, addRuleCondition, parseCondition, removeRuleCondition } from './rules.ts';
import { commit, history, redo, undo } from './history.ts';
import { lint, nodeOfPointer } from './checks.ts';
import { diffDefinitions } from './diff.ts';

const FORMS_DIR = resolve(import.meta.dirname, '../../../seed-apps/medical-device-crm/forms');
const readForm = (name: string) => JSON.parse(readFileSync(join(FORMS_DIR, name), 'utf8')) as FormDefinition;

/** The id of the node the last add created. */
const last = (s: DesignerState) => s.lastAdded!;
const idOf = (s: DesignerState, key: string) => fieldByKey(s, key)!.id;

describe('drop sequence → definition', () => {
  test('text, select with options, number at the root', () => {
    let s = emptyState('site_visit', { 'zh-CN': '现场拜访', en: 'Site visit' });
    s = addField(s, 'text', ROOT, 0);
    s = addField(s, 'select', ROOT, 1);
    s = addField(s, 'number', ROOT, 0); // dropped above the text field
    s = renameField(s, idOf(s, 'select_1'), 'outcome');
    s = setOptions(s, idOf(s, 'outcome'), [
      { value: 'won', label: { 'zh-CN': '赢单', en: 'Won' } },
      { value: 'lost', label: { 'zh-CN': '丢单', en: 'Lost' } },
    ]);
    s = setRequired(s, idOf(s, 'outcome'), true);
    s = setProp(s, idOf(s, 'number_1'), ['minimum'], 0);
    s = setProp(s, idOf(s, 'number_1'), ['maximum'], 10);
    s = setProp(s, idOf(s, 'text_1'), ['maxLength'], 100);
    s = setLabel(s, idOf(s, 'text_1'), 'en', 'Contact');
    s = setProp(s, idOf(s, 'text_1'), ['x-help', 'zh-CN'], '对方联系人');
    const def = toDefinition(s);
    expect(def).toStrictEqual({
      key: 'site_visit',
      label: { 'zh-CN': '现场拜访', en: 'Site visit' },
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          text_1: {
            type: 'string',
            'x-type': 'text',
            'x-label': { 'zh-CN': '单行文本1', en: 'Contact' },
            maxLength: 100,
            'x-help': { 'zh-CN': '对方联系人' },
          },
          outcome: {
            type: 'string',
            'x-type': 'select',
            'x-label': { 'zh-CN': '单选1', en: 'Select 1' },
            enum: ['won', 'lost'],
            'x-options': { won: { 'zh-CN': '赢单', en: 'Won' }, lost: { 'zh-CN': '丢单', en: 'Lost' } },
          },
          number_1: {
            type: 'number',
            'x-type': 'number',
            'x-label': { 'zh-CN': '数字1', en: 'Number 1' },
            minimum: 0,
            maximum: 10,
          },
        },
        required: ['outcome'],
        additionalProperties: false,
      },
      layout: {
        type: 'VerticalLayout',
        elements: [
          { type: 'Control', scope: '#/properties/number_1' },
          { type: 'Control', scope: '#/properties/text_1' },
          { type: 'Control', scope: '#/properties/outcome' },
        ],
      },
    });
    // The property order of the schema is the order of creation.
    expect(Object.keys(def.schema.properties)).toEqual(['text_1', 'outcome', 'number_1']);
  });

  test('reference, sub-table with columns, group with columns, attachment adds $defs.file', () => {
    let s = emptyState('visit', { 'zh-CN': '拜访', en: 'Visit' });
    s = addContainer(s, 'group', ROOT, 0, { 'zh-CN': '基本信息', en: 'Basics' });
    const group = last(s);
    s = addContainer(s, 'row', group, 0);
    const row = last(s);
    s = addField(s, 'reference', row, 0, { key: 'customer', schema: { 'x-ref': { form: 'customer', display: 'name' } } });
    s = addField(s, 'date', row, 1, { key: 'visited_on', label: { 'zh-CN': '日期', en: 'Date' } });
    s = addField(s, 'sub_table', ROOT, 1, { key: 'items' });
    const table = last(s);
    s = addField(s, 'integer', table, 0, { key: 'qty' });
    s = addField(s, 'reference', table, 0, { key: 'part', schema: { 'x-ref': { form: 'spare_part', display: 'part_number' } } });
    // A sub-table cannot go into a sub-table.
    expect(addField(s, 'sub_table', table, 0)).toBe(s);
    expect(findNode(s, table)!.node.kind).toBe('field');
    s = setRequired(s, fieldByKey(s, 'items')!.columns![1]!.id, true);
    s = addField(s, 'attachment', ROOT, 2, { key: 'photos' });
    s = setRequired(s, idOf(s, 'customer'), true);

    const def = toDefinition(s);
    expect(def.schema.properties.customer).toStrictEqual({
      type: 'integer',
      'x-type': 'reference',
      'x-label': { 'zh-CN': '关联记录1', en: 'Reference 1' },
      'x-ref': { form: 'customer', display: 'name' },
    });
    expect(def.schema.properties.items).toStrictEqual({
      type: 'array',
      'x-type': 'sub_table',
      'x-label': { 'zh-CN': '子表1', en: 'Sub-table 1' },
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['qty'],
        properties: {
          part: {
            type: 'integer',
            'x-type': 'reference',
            'x-label': { 'zh-CN': '关联记录1', en: 'Reference 1' },
            'x-ref': { form: 'spare_part', display: 'part_number' },
          },
          qty: { type: 'integer', 'x-type': 'integer', 'x-label': { 'zh-CN': '整数1', en: 'Integer 1' } },
        },
      },
    });
    expect(def.schema.properties.photos).toStrictEqual({
      type: 'array',
      'x-type': 'attachment',
      'x-label': { 'zh-CN': '附件1', en: 'Attachment 1' },
      maxItems: 10,
      items: { $ref: '#/$defs/file' },
    });
    expect(def.schema.$defs.file.required).toEqual(['sha256', 'name']);
    expect(def.schema.required).toEqual(['customer']);
    expect(def.layout).toStrictEqual({
      type: 'VerticalLayout',
      elements: [
        {
          type: 'Group',
          label: { 'zh-CN': '基本信息', en: 'Basics' },
          elements: [
            {
              type: 'HorizontalLayout',
              elements: [
                { type: 'Control', scope: '#/properties/customer' },
                { type: 'Control', scope: '#/properties/visited_on' },
              ],
            },
          ],
        },
        { type: 'Control', scope: '#/properties/items' },
        { type: 'Control', scope: '#/properties/photos' },
      ],
    });
    expect(lint(s)).toEqual([]);
    // The client-side validator accepts it and checks the sub-table's required column.
    expect(validateRecord(def.schema, { customer: 1, items: [{ part: 2 }] }).map((e) => e.pointer)).toEqual(['/data/items/0/qty']);
  });

  test('every platform type has a template the platform rules accept', () => {
    let s = emptyState('all', { en: 'All' });
    const types = [
      'text', 'long_text', 'number', 'integer', 'money', 'date', 'datetime', 'select', 'multi_select', 'boolean',
      'email', 'cn_mobile', 'uscc', 'region', 'member', 'department', 'reference', 'sub_table', 'attachment',
      'signature', 'serial', 'computed',
    ] as const;
    types.forEach((t, i) => (s = addField(s, t, ROOT, i)));
    const def = toDefinition(s);
    expect(Object.keys(def.schema.properties)).toHaveLength(types.length);
    for (const [k, p] of Object.entries(def.schema.properties as Record<string, Record<string, unknown>>)) {
      expect(p['x-type'], k).toBe(k.replace(/_1$/, ''));
      expect(p['x-label'], k).toBeTruthy();
    }
    expect(def.schema.properties.multi_select_1.items.enum).toEqual(['option_1', 'option_2']);
    // only the empty reference target is flagged
    expect(lint(s).map((p) => p.pointer)).toEqual(['/schema/properties/reference_1/x-ref/form']);
  });
});

describe('moving, nesting, removing', () => {
  const three = () => {
    let s = emptyState('f', { en: 'F' });
    s = addField(s, 'text', ROOT, 0, { key: 'a' });
    s = addField(s, 'text', ROOT, 1, { key: 'b' });
    s = addField(s, 'text', ROOT, 2, { key: 'c' });
    return s;
  };
  const scopes = (s: DesignerState) => JSON.stringify(toDefinition(s).layout).match(/properties\/\w+/g)?.map((x) => x.slice(11));

  test('reorder, wrap into a group and unwrap', () => {
    let s = three();
    s = move(s, idOf(s, 'c'), ROOT, 0);
    expect(scopes(s)).toEqual(['c', 'a', 'b']);
    s = wrap(s, idOf(s, 'a'), 'group', { en: 'G' });
    const g = last(s);
    s = move(s, idOf(s, 'b'), g, 1);
    expect(toDefinition(s).layout!.elements![1]).toEqual({
      type: 'Group',
      label: { en: 'G' },
      elements: [
        { type: 'Control', scope: '#/properties/a' },
        { type: 'Control', scope: '#/properties/b' },
      ],
    });
    // A group cannot go into itself.
    expect(move(s, g, g, 0)).toBe(s);
    s = unwrap(s, g);
    expect(scopes(s)).toEqual(['c', 'a', 'b']);
    expect(toDefinition(s).layout!.elements).toHaveLength(3);
  });

  test('a field moved into a sub-table becomes a column, required and all', () => {
    let s = three();
    s = setRequired(s, idOf(s, 'b'), true);
    s = addField(s, 'sub_table', ROOT, 3, { key: 't' });
    const t = last(s);
    s = move(s, idOf(s, 'b'), t, 0);
    const def = toDefinition(s);
    expect(def.schema.properties.b).toBeUndefined();
    expect(def.schema.required).toBeUndefined();
    expect(def.schema.properties.t.items.required).toEqual(['b']);
    expect(Object.keys(def.schema.properties.t.items.properties)).toEqual(['b']);
    // Groups cannot go into a sub-table.
    s = addContainer(s, 'group', ROOT, 0);
    expect(move(s, last(s), t, 0)).toBe(s);
  });

  test('remove drops the field everywhere; rename follows references', () => {
    let s = three();
    s = setRequired(s, idOf(s, 'a'), true);
    s = addRuleCondition(s, idOf(s, 'c'), 'SHOW', { field: 'a', op: 'eq', value: 'x' });
    s = addRequiredWhen(s, { fields: ['b'], when: 'a', value: 'x' });
    s = renameField(s, idOf(s, 'a'), 'alpha');
    let def = toDefinition(s);
    expect(def.schema.required).toEqual(['alpha']);
    expect(def.layout!.elements![2]!.rule).toEqual({ effect: 'SHOW', condition: { '==': [{ var: 'alpha' }, 'x'] } });
    expect(def.schema.allOf[0].if.properties.alpha).toEqual({ const: 'x' });
    s = remove(s, idOf(s, 'alpha'));
    def = toDefinition(s);
    expect(Object.keys(def.schema.properties)).toEqual(['b', 'c']);
    expect(def.schema.required).toBeUndefined();
    expect(def.schema.allOf).toBeUndefined();
  });
});

describe('rules', () => {
  const base = () => {
    let s = emptyState('f', { en: 'F' });
    s = addField(s, 'select', ROOT, 0, { key: 'status' });
    s = setOptions(s, idOf(s, 'status'), [
      { value: 'open', label: { en: 'Open' } },
      { value: 'closed', label: { en: 'Closed' } },
    ]);
    s = addField(s, 'long_text', ROOT, 1, { key: 'note' });
    s = addField(s, 'number', ROOT, 2, { key: 'score' });
    return s;
  };

  test('show/hide conditions become JSON Logic on the layout element', () => {
    let s = base();
    s = addRuleCondition(s, idOf(s, 'note'), 'SHOW', { field: 'status', op: 'eq', value: 'closed' });
    let note = toDefinition(s).layout!.elements![1]!;
    expect(note.rule).toEqual({ effect: 'SHOW', condition: { '==': [{ var: 'status' }, 'closed'] } });
    expect(ruleShows(note.rule, { status: 'closed' })).toBe(true);
    expect(ruleShows(note.rule, { status: 'open' })).toBe(false);
    expect(ruleShows(note.rule, {})).toBe(false);

    s = addRuleCondition(s, idOf(s, 'note'), 'SHOW', { field: 'score', op: 'not_empty' });
    note = toDefinition(s).layout!.elements![1]!;
    expect(note.rule!.condition).toEqual({ and: [{ '==': [{ var: 'status' }, 'closed'] }, { '!!': { var: 'score' } }] });
    expect(ruleShows(note.rule, { status: 'closed', score: 3 })).toBe(true);
    expect(ruleShows(note.rule, { status: 'closed' })).toBe(false);
    expect(parseCondition(note.rule!.condition)).toEqual([
      { field: 'status', op: 'eq', value: 'closed' },
      { field: 'score', op: 'not_empty' },
    ]);
    s = removeRuleCondition(s, idOf(s, 'note'), 0);
    expect(toDefinition(s).layout!.elements![1]!.rule).toEqual({ effect: 'SHOW', condition: { '!!': { var: 'score' } } });
    s = removeRuleCondition(s, idOf(s, 'note'), 0);
    expect(toDefinition(s).layout!.elements![1]!.rule).toBeUndefined();
  });

  test('the other operators', () => {
    let s = base();
    s = addContainer(s, 'group', ROOT, 3, { en: 'Extra' });
    const g = last(s);
    s = addRuleCondition(s, g, 'HIDE', { field: 'status', op: 'in', value: ['open', 'closed'] });
    expect(toDefinition(s).layout!.elements![3]!.rule).toEqual({
      effect: 'HIDE',
      condition: { in: [{ var: 'status' }, ['open', 'closed']] },
    });
    s = addRuleCondition(emptyState('x', {}), ROOT, 'SHOW', { field: 'a', op: 'empty' });
    expect(parseCondition({ '!': { var: 'a' } })).toEqual([{ field: 'a', op: 'empty' }]);
    expect(parseCondition({ '!=': [{ var: 'a' }, 3] })).toEqual([{ field: 'a', op: 'ne', value: 3 }]);
    expect(parseCondition({ '>': [{ var: 'a' }, 3] })).toBeNull();
  });

  test('required-when becomes allOf if/then, enforced by the validator', () => {
    let s = base();
    s = addRequiredWhen(s, { fields: ['note'], when: 'status', value: 'closed' });
    const schema = toDefinition(s).schema;
    expect(schema.allOf).toEqual([
      { if: { properties: { status: { const: 'closed' } }, required: ['status'] }, then: { required: ['note'] } },
    ]);
    expect([...requiredFields(schema, { status: 'closed' })]).toEqual(['note']);
    expect([...requiredFields(schema, { status: 'open' })]).toEqual([]);
    expect(validateRecord(schema, { status: 'closed' }).map((e) => e.pointer)).toEqual(['/data/note']);
    expect(validateRecord(schema, { status: 'open' })).toEqual([]);
    // and it loads back as a required-when rule
    expect(fromDefinition(toDefinition(s)).requiredWhen).toEqual([{ id: 'r1', fields: ['note'], when: 'status', value: 'closed' }]);
  });
});

describe('round trip', () => {
  test('the CRM service order loads and saves back unchanged', () => {
    const def = readForm('service_order.json');
    const s = fromDefinition(def);
    // the designer understands the form
    expect(fieldByKey(s, 'parts_used')!.columns!.map((c) => c.key)).toEqual(['part', 'qty', 'unit_cost']);
    expect(s.requiredWhen).toEqual([{ id: 'r1', fields: ['resolution'], when: 'status', value: 'closed', root: true }]);
    expect(s.root.map((n) => n.kind)).toEqual(['group', 'group', 'group', 'group']);
    const back = toDefinition(s);
    expect(back).toStrictEqual(def);
    expect(Object.keys(back.schema.properties)).toEqual(Object.keys(def.schema.properties));
    // an edit and its reverse give the original again
    const id = fieldByKey(s, 'fault_code')!.id;
    const edited = setProp(setProp(s, id, ['maxLength'], 60), id, ['maxLength'], 50);
    expect(toDefinition(edited)).toStrictEqual(def);
  });

  test('every CRM form round-trips', () => {
    for (const f of readdirSync(FORMS_DIR).filter((n) => n.endsWith('.json'))) {
      const def = readForm(f);
      expect(toDefinition(fromDefinition(def)), f).toEqual(def);
    }
  });

  test('unknown schema keywords, layout keys and allOf entries are kept', () => {
    const def = {
      key: 'k',
      label: { en: 'K' },
      description: { en: 'D' },
      schema: {
        type: 'object',
        properties: {
          a: { type: 'string', 'x-type': 'text', 'x-label': { en: 'A' }, pattern: '^x', 'x-demo': { values: ['x1'] } },
          b: { type: 'integer', 'x-type': 'integer', 'x-label': { en: 'B' } },
        },
        additionalProperties: false,
        allOf: [{ not: { required: ['zzz'] } }],
        dependentRequired: { a: ['b'] },
      },
      layout: {
        type: 'VerticalLayout',
        elements: [{ type: 'Control', scope: '#/properties/a', options: { multi: true } }],
      },
    } as unknown as FormDefinition;
    const back = toDefinition(fromDefinition(def));
    // b was missing from the layout: it is added at the end
    expect(back.layout!.elements).toEqual([
      { type: 'Control', scope: '#/properties/a', options: { multi: true } },
      { type: 'Control', scope: '#/properties/b' },
    ]);
    expect({ ...back, layout: def.layout }).toEqual(def);
  });
});

describe('undo / redo', () => {
  test('steps back and forth; typing in one input is one step', () => {
    let h = history(emptyState('f', { en: 'F' }));
    h = commit(h, addField(h.present, 'text', ROOT, 0, { key: 'a' }));
    h = commit(h, addField(h.present, 'number', ROOT, 1, { key: 'n' }));
    const id = idOf(h.present, 'a');
    for (const text of ['T', 'Ti', 'Tit'])
      h = commit(h, setLabel(h.present, id, 'en', text), `label:${id}`);
    expect(h.past).toHaveLength(3);
    expect(fieldByKey(h.present, 'a')!.schema['x-label'].en).toBe('Tit');
    h = undo(h);
    expect(fieldByKey(h.present, 'a')!.schema['x-label'].en).toBe('Text 1');
    h = undo(h);
    expect(fieldByKey(h.present, 'n')).toBeUndefined();
    h = undo(h);
    expect(h.present.root).toEqual([]);
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(Object.keys(toDefinition(h.present).schema.properties)).toEqual(['a', 'n']);
    // a new edit after undo drops the redo branch
    h = undo(h);
    h = commit(h, addField(h.present, 'boolean', ROOT, 1, { key: 'yes' }));
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
    expect(Object.keys(toDefinition(h.present).schema.properties)).toEqual(['a', 'yes']);
  });
});

describe('errors and versions', () => {
  test('server pointers map to canvas nodes', () => {
    const s = fromDefinition(readForm('service_order.json'));
    expect(nodeOfPointer(s, '/schema/properties/customer/x-ref/form')).toBe(fieldByKey(s, 'customer')!.id);
    const qty = fieldByKey(s, 'parts_used')!.columns![1]!;
    expect(nodeOfPointer(s, '/schema/properties/parts_used/items/properties/qty/minimum')).toBe(qty.id);
    expect(nodeOfPointer(s, '/layout/elements/1')).toBe(s.root[1]!.id);
    expect(nodeOfPointer(s, '/schema/$defs/file')).toBeNull();
  });

  test('diff names added, removed and changed fields and layout moves', () => {
    const a = readForm('service_order.json');
    let s = fromDefinition(a);
    s = remove(s, fieldByKey(s, 'channel')!.id);
    s = addField(s, 'text', ROOT, 0, { key: 'site' });
    s = setProp(s, fieldByKey(s, 'labour_hours')!.id, ['maximum'], 24);
    s = setLabel(s, fieldByKey(s, 'labour_hours')!.id, 'en', 'Hours');
    s = setRequired(s, fieldByKey(s, 'cause')!.id, true);
    s = addRuleCondition(s, fieldByKey(s, 'cause')!.id, 'SHOW', { field: 'status', op: 'ne', value: 'reported' });
    s = move(s, fieldByKey(s, 'engineer')!.id, ROOT, 0);
    const qty = fieldByKey(s, 'parts_used')!.columns![1]!;
    s = setProp(s, qty.id, ['minimum'], 0);
    const d = diffDefinitions(a, toDefinition(s));
    expect(d.added).toEqual(['site']);
    expect(d.removed).toEqual(['channel']);
    expect(d.changed).toEqual([
      { key: 'cause', attributes: ['required'] },
      { key: 'parts_used', attributes: ['qty.minimum'] },
      { key: 'labour_hours', attributes: ['x-label', 'maximum'] },
    ]);
    expect(d.layout).toContainEqual({ kind: 'moved', key: 'engineer', from: [{ 'zh-CN': '派工与时效', en: 'Dispatch and timing' }], to: [] });
    expect(d.layout).toContainEqual({ kind: 'ruleAdded', target: 'cause' });
    expect(d.form).toEqual([]);
    expect(diffDefinitions(a, a)).toEqual({ added: [], removed: [], changed: [], layout: [], form: [] });
    // The print templates ride along through the designer, and a change to them is named.
    expect(a.print?.['zh-CN']).toContain('服务报告单');
    expect(toDefinition(s).print).toEqual(a.print);
    expect(diffDefinitions(a, { ...a, print: { en: '<h1>{{form.label}}</h1>' } }).form).toEqual(['print']);
  });

  test('lint flags bad keys, empty labels and inverted limits', () => {
    let s = emptyState('f', { en: 'F' });
    s = addField(s, 'number', ROOT, 0, { key: 'n' });
    s = setProp(s, idOf(s, 'n'), ['minimum'], 5);
    s = setProp(s, idOf(s, 'n'), ['maximum'], 1);
    s = renameField(s, idOf(s, 'n'), 'Bad-Key');
    s = setProp(s, fieldByKey(s, 'Bad-Key')!.id, ['x-label'], { en: '' });
    expect(lint(s).map((p) => [p.pointer, p.rule])).toEqual([
      ['/schema/properties/Bad-Key', 'key'],
      ['/schema/properties/Bad-Key/x-label', 'label'],
      ['/schema/properties/Bad-Key/minimum', 'range'],
    ]);
  });
});
