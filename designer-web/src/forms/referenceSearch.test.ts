import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonSchema } from '../api/types.ts';
import { MAX_SEARCH_FIELDS, fieldsToRead, matchHint, searchFields, searchFilter } from './referenceSearch.ts';

const CRM = join(import.meta.dirname, '..', '..', '..', 'seed-apps', 'medical-device-crm', 'forms');
const schemaOf = (form: string) => (JSON.parse(readFileSync(join(CRM, `${form}.json`), 'utf8')) as { schema: JsonSchema }).schema;

describe('reference search', () => {
  it('looks in the display field first, then the other one-line text fields (not notes, not computed values)', () => {
    // customer: name (display), address, uscc, phone; grade is computed, notes long text.
    expect(searchFields(schemaOf('customer'), 'name')).toEqual(['name', 'address', 'uscc', 'phone']);
    // contact: mobile and email are searched too.
    expect(searchFields(schemaOf('contact'), 'name')).toEqual(['name', 'mobile', 'email', 'wechat']);
    // product, shown by model, is also found by its name and registration number.
    expect(searchFields(schemaOf('product'), 'model')).toEqual(['model', 'name', 'registration_no', 'manufacturer', 'udi_di']);
    // service orders: the serial number and the fault code.
    expect(searchFields(schemaOf('service_order'), 'serial')).toEqual(['serial', 'fault_code']);
  });

  it('only searches fields the caller’s (masked) definition has, and text fields only', () => {
    const masked = {
      properties: {
        code: { type: 'integer', 'x-type': 'integer' },
        title: { type: ['string', 'null'], 'x-type': 'text' },
        status: { type: 'string', 'x-type': 'select', enum: ['a'] },
        owner: { type: 'string', 'x-type': 'member' },
        when: { type: 'string', 'x-type': 'datetime' },
        odd: { type: ['string', 'number'], 'x-type': 'text' },
      },
    };
    // `name` (the display field) was masked away; `code` is not text.
    expect(searchFields(masked, 'name')).toEqual(['title']);
    expect(searchFields(masked, 'code')).toEqual(['title']);
    // The display field is read whenever the caller may read it, whatever its type.
    expect(fieldsToRead(masked, 'code', ['title'])).toEqual(['code', 'title']);
    expect(fieldsToRead(masked, 'name', ['title'])).toEqual(['title']);
  });

  it('falls back to the display field alone when the definition cannot be read', () => {
    expect(searchFields(null, 'name')).toEqual(['name']);
    expect(searchFields(undefined, undefined)).toEqual([]);
    expect(fieldsToRead(null, 'name', ['name'])).toEqual(['name']);
  });

  it('caps the number of fields in one search', () => {
    const props = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, { type: 'string', 'x-type': 'text' }]));
    const fields = searchFields({ properties: props }, 't19');
    expect(fields).toHaveLength(MAX_SEARCH_FIELDS);
    expect(fields[0]).toBe('t19');
  });

  it('is an or of substring tests the list API accepts; nothing for an empty text', () => {
    expect(searchFilter('协和', ['name', 'phone'])).toEqual({
      or: [{ in: ['协和', { var: 'name' }] }, { in: ['协和', { var: 'phone' }] }],
    });
    expect(searchFilter(' 协和 ', ['name'])).toEqual({ in: ['协和', { var: 'name' }] });
    expect(searchFilter('', ['name'])).toBeUndefined();
    expect(searchFilter('   ', ['name'])).toBeUndefined();
    expect(searchFilter('x', [])).toBeUndefined();
  });

  it('names the other field’s value when only it matched', () => {
    const data = { name: '北京协和医院', phone: '010-69156114', address: '北京市东城区帅府园1号' };
    const fields = ['name', 'address', 'phone'];
    expect(matchHint(data, 'name', fields, '69156')).toBe('010-69156114');
    expect(matchHint(data, 'name', fields, '东城')).toBe('北京市东城区帅府园1号');
    expect(matchHint(data, 'name', fields, '协和')).toBeUndefined();
    expect(matchHint(data, 'name', fields, '')).toBeUndefined();
    expect(matchHint(data, 'name', fields, 'nowhere')).toBeUndefined();
  });
});
