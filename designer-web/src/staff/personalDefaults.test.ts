import { describe, expect, it } from 'vitest';
import { personalDefaults } from './personalDefaults.ts';

const schema = {
  properties: {
    owner: { 'x-type': 'member', default: '$me' },
    team: { 'x-type': 'department', default: '$my_department' },
    note: { 'x-type': 'text', default: '$me' },
    status: { 'x-type': 'select', default: 'new' },
  },
};

describe('personalDefaults', () => {
  it('fills the current user and department into member and department fields', () => {
    const v = { owner: '$me', team: '$my_department', status: 'new' };
    expect(personalDefaults(v, schema, { username: 'sales1', department: 'sales_dept' })).toEqual({
      owner: 'sales1',
      team: 'sales_dept',
      status: 'new',
    });
  });
  it('leaves the placeholder out when it cannot be filled or the type does not fit', () => {
    expect(personalDefaults({ owner: '$me', team: '$my_department' }, schema, { username: 'x', department: null })).toEqual({ owner: 'x' });
    expect(personalDefaults({ note: '$me' }, schema, { username: 'x', department: null })).toEqual({});
    expect(personalDefaults({ owner: '$me' }, schema, null)).toEqual({});
  });
});
