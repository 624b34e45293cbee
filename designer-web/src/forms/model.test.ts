import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaults, fieldsOf, layoutOf, requiredFields, ruleShows } from './model.ts';
import { checkType, usccValid, validateRecord } from './validate.ts';

const CRM = join(import.meta.dirname, '..', '..', '..', 'seed-apps', 'medical-device-crm', 'forms');
const serviceOrder = JSON.parse(readFileSync(join(CRM, 'service_order.json'), 'utf8'));

describe('layoutOf', () => {
  it('drops controls of fields the caller cannot see and empty groups', () => {
    const layout = {
      type: 'VerticalLayout' as const,
      elements: [
        { type: 'Group' as const, label: { en: 'Money' }, elements: [{ type: 'Control' as const, scope: '#/properties/fee' }] },
        { type: 'Control' as const, scope: '#/properties/name' },
      ],
    };
    const out = layoutOf({ schema: { properties: { name: { 'x-type': 'text' } } }, layout });
    expect(out.elements).toEqual([{ type: 'Control', scope: '#/properties/name' }]);
  });

  it('appends fields missing from the layout', () => {
    const out = layoutOf({ schema: { properties: { a: {}, b: {} } }, layout: { type: 'VerticalLayout', elements: [{ type: 'Control', scope: '#/properties/b' }] } });
    expect(out.elements?.map((e) => e.scope)).toEqual(['#/properties/b', '#/properties/a']);
  });
});

describe('rules', () => {
  it('shows and hides on a JSON Logic condition', () => {
    const rule = { effect: 'SHOW' as const, condition: { '==': [{ var: 'status' }, 'closed'] } };
    expect(ruleShows(rule, { status: 'closed' })).toBe(true);
    expect(ruleShows(rule, { status: 'open' })).toBe(false);
    expect(ruleShows({ ...rule, effect: 'HIDE' }, { status: 'closed' })).toBe(false);
    expect(ruleShows(undefined, {})).toBe(true);
  });

  it('adds if/then requirements when the condition holds (the CRM rule: closed needs a resolution)', () => {
    expect(requiredFields(serviceOrder.schema, { status: 'closed' }).has('resolution')).toBe(true);
    expect(requiredFields(serviceOrder.schema, { status: 'reported' }).has('resolution')).toBe(false);
    const allOf = { required: ['a'], allOf: [{ if: { properties: { k: { enum: ['x', 'y'] } }, required: ['k'] }, then: { required: ['b'] } }] };
    expect([...requiredFields(allOf, { k: 'y' })].sort()).toEqual(['a', 'b']);
    expect([...requiredFields(allOf, {})]).toEqual(['a']);
  });
});

describe('client validation mirrors the server', () => {
  it('checks the USCC check character (GB 32100-2015)', () => {
    expect(usccValid('91350100M000100Y43')).toBe(true);
    expect(usccValid('91350100M000100Y44')).toBe(false);
    expect(usccValid('short')).toBe(false);
  });

  it('checks dates, money and mobile numbers', () => {
    expect(checkType('date', '2026-02-29')).not.toBeNull();
    expect(checkType('date', '2028-02-29')).toBeNull();
    expect(checkType('datetime', '2026-11-22T09:30:00+08:00')).toBeNull();
    expect(checkType('datetime', '2026-11-22T09:30:00')).not.toBeNull();
    // A region's shape, as the server checks it (schema/field_types.rs).
    expect(checkType('region', { province: '北京市', city: '北京市', district: '东城区' })).toBeNull();
    expect(checkType('region', { province: '上海市' })).toBeNull();
    expect(checkType('region', { city: '北京市' })).not.toBeNull();
    expect(checkType('region', { province: '北京市', street: 'x' })).not.toBeNull();
    expect(checkType('region', { province: '' })).not.toBeNull();
    expect(checkType('money', 12.345)).not.toBeNull();
    expect(checkType('money', 12.34)).toBeNull();
    expect(checkType('cn_mobile', '13812345678')).toBeNull();
    expect(checkType('cn_mobile', '12812345678')).not.toBeNull();
  });

  it('reports schema problems with the server pointers', () => {
    const errs = validateRecord(serviceOrder.schema, { kind: 'nope', satisfaction: 'x' });
    const pointers = errs.map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/data/customer', '/data/fault_description', '/data/kind', '/data/priority', '/data/satisfaction']);
    expect(errs.find((e) => e.pointer === '/data/kind')?.rule).toBe('enum');
  });

  it('compiles every CRM form and accepts its defaults plus required values', () => {
    for (const file of readdirSync(CRM)) {
      const def = JSON.parse(readFileSync(join(CRM, file), 'utf8'));
      expect(fieldsOf(def.schema).length).toBeGreaterThan(0);
      const errs = validateRecord(def.schema, defaults(def.schema));
      // Only missing required fields may be reported for defaults.
      expect(errs.filter((e) => e.rule !== 'required'), file).toEqual([]);
    }
  });
});
