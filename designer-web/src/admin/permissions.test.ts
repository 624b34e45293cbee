import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../forms/model.ts';
import {
  ACTIONS,
  ALL_FORMS,
  applyGrid,
  applyMatrix,
  changedForms,
  clone,
  errorPlace,
  fieldAccess,
  filterText,
  gridToRule,
  jsonEqual,
  matrixForms,
  parseFilter,
  rowKind,
  setAction,
  setAllFields,
  setFieldAccess,
  setRows,
  toGrid,
  toMatrix,
  type Grid,
  type RoleDoc,
} from './permissions.ts';

const CRM = fileURLToPath(new URL('../../../seed-apps/medical-device-crm/', import.meta.url));

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

const roleFiles = readdirSync(join(CRM, 'roles')).filter((f) => f.endsWith('.json'));
const roles: RoleDoc[] = roleFiles.map((f) => readJson<RoleDoc>(join(CRM, 'roles', f)));
const formFields: Record<string, string[]> = {};
for (const f of readdirSync(join(CRM, 'forms')).filter((n) => n.endsWith('.json'))) {
  const def = readJson<{ key: string; schema: Record<string, unknown> }>(join(CRM, 'forms', f));
  formFields[def.key] = fieldsOf(def.schema).map((x) => x.key);
}
const appForms = Object.keys(formFields).sort();
const fieldsFor = (form: string): string[] => (form === ALL_FORMS ? [ALL_FORMS] : (formFields[form] ?? []));

function role(key: string): RoleDoc {
  const r = roles.find((x) => x.key === key);
  if (!r) throw new Error(`no role ${key}`);
  return clone(r);
}

describe('the CRM role files', () => {
  it('are all there', () => {
    expect(roles.map((r) => r.key).sort()).toEqual(
      ['compliance', 'crm_admin', 'customer_service', 'engineer', 'finance', 'sales', 'service_director', 'service_manager'].sort(),
    );
    expect(appForms.length).toBeGreaterThan(10);
  });

  for (const file of roleFiles) {
    it(`${file}: matrix and every field grid round-trip exactly`, () => {
      const original = readJson<RoleDoc>(join(CRM, 'roles', file));
      const text = JSON.stringify(original);
      const forms = matrixForms(original, appForms);
      // Every form the role names is a row.
      for (const f of Object.keys(original.permissions)) expect(forms).toContain(f);

      let doc = applyMatrix(original, toMatrix(original, forms));
      for (const form of forms) doc = applyGrid(doc, form, fieldsFor(form), toGrid(doc.permissions[form], fieldsFor(form)));
      for (const form of forms) {
        const rows = doc.permissions[form]?.rows;
        if (rowKind(rows) === 'filter') doc = setRows(doc, form, 'filter', (parseFilter(filterText(rows)) as { value: unknown }).value);
        else doc = setRows(doc, form, rowKind(rows));
      }
      // Same JSON text: same keys, same order, same lists.
      expect(JSON.stringify(doc)).toBe(text);
      // And the original was not modified in place.
      expect(JSON.stringify(original)).toBe(text);
    });

    it(`${file}: the canonical rule of each grid means the same grid`, () => {
      const original = readJson<RoleDoc>(join(CRM, 'roles', file));
      for (const [form, rule] of Object.entries(original.permissions)) {
        const fields = fieldsFor(form);
        const grid = toGrid(rule, fields);
        const canonical = gridToRule(grid, fields);
        expect(toGrid(canonical, fields)).toEqual(grid);
      }
    });

    it(`${file}: every single toggle changes exactly that cell and is undone by toggling back`, () => {
      const original = readJson<RoleDoc>(join(CRM, 'roles', file));
      for (const form of Object.keys(original.permissions)) {
        const fields = fieldsFor(form);
        const before = toGrid(original.permissions[form], fields);
        for (const f of fields) {
          const cell = before[f]!;
          const toggled = setFieldAccess(original, form, fields, f, { read: !cell.read });
          const after = toGrid(toggled.permissions[form], fields);
          const expected: Grid = { ...before, [f]: { read: !cell.read, write: cell.read ? false : cell.write } };
          // Ticking read back on gives back what the write rules say (asked of the rule).
          if (!cell.read) expected[f] = fieldAccess(toggled.permissions[form], f);
          expect(after).toEqual(expected);
          // Only this form changed.
          expect([...changedForms(original, toggled)]).toEqual([form]);
          const back = setFieldAccess(toggled, form, fields, f, { read: cell.read, write: cell.write });
          expect(toGrid(back.permissions[form], fields)).toEqual(before);
        }
      }
    });
  }
});

describe('field grid', () => {
  const deviceFields = fieldsFor('device');

  it('unticking read under "*" adds a deny_read and nothing else', () => {
    const doc = role('engineer');
    const next = setFieldAccess(doc, 'device', deviceFields, 'asset_number', { read: false });
    const expected = clone(doc);
    expected.permissions.device!.deny_read = ['asset_number'];
    expect(next).toEqual(expected);
    expect(JSON.stringify(Object.keys(next.permissions))).toBe(JSON.stringify(Object.keys(doc.permissions)));
    expect(doc.permissions.device!.deny_read).toBeUndefined();
  });

  it('ticking a denied field removes the deny (and the empty list)', () => {
    const doc = role('engineer');
    const next = setFieldAccess(doc, 'contract', fieldsFor('contract'), 'amount', { read: true });
    expect(next.permissions.contract).toEqual({ actions: ['read'], rows: 'all', read: ['*'] });
  });

  it('unticking read of a writable field withdraws write too', () => {
    const doc = role('engineer');
    const next = setFieldAccess(doc, 'device', deviceFields, 'status', { read: false });
    expect(fieldAccess(next.permissions.device, 'status')).toEqual({ read: false, write: false });
    // Only the deny is added: the write rule stays as it was (it grants nothing unreadable).
    expect(next.permissions.device).toEqual({ ...doc.permissions.device, deny_read: ['status'] });
  });

  it('a field is writable only when readable', () => {
    expect(fieldAccess({ read: ['a'], write: ['*'] }, 'b')).toEqual({ read: false, write: false });
    expect(fieldAccess({ read: ['*'], deny_read: ['b'], write: ['b'] }, 'b')).toEqual({ read: false, write: false });
    expect(fieldAccess({ read: ['*'], write: ['*'], deny_write: ['b'] }, 'b')).toEqual({ read: true, write: false });
    expect(fieldAccess({ read: ['*'], write: ['*'] }, 'b')).toEqual({ read: true, write: true });
    expect(fieldAccess(undefined, 'b')).toEqual({ read: false, write: false });
  });

  it('ticking write ticks read', () => {
    const doc = role('engineer');
    const withDeny = setFieldAccess(doc, 'service_order', fieldsFor('service_order'), 'service_fee', { write: true });
    expect(fieldAccess(withDeny.permissions.service_order, 'service_fee')).toEqual({ read: true, write: true });
    expect(withDeny.permissions.service_order!.deny_read).toBeUndefined();
    expect(withDeny.permissions.service_order!.write).toContain('service_fee');
  });

  it('write lists: unticking removes from the list, under "*" adds deny_write', () => {
    const doc = role('engineer');
    const a = setFieldAccess(doc, 'device', deviceFields, 'software_version', { write: false });
    expect(a.permissions.device!.write).toEqual(['last_inspection_on', 'config_changes', 'status']);
    expect(a.permissions.device!.deny_write).toBeUndefined();
    const b = setFieldAccess(doc, 'stock_movement', fieldsFor('stock_movement'), fieldsFor('stock_movement')[0]!, { write: false });
    expect(b.permissions.stock_movement!.write).toEqual(['*']);
    expect(b.permissions.stock_movement!.deny_write).toEqual([fieldsFor('stock_movement')[0]]);
  });

  it('a list that grows to every field becomes "*"', () => {
    let doc: RoleDoc = { key: 'x', label: { en: 'X' }, permissions: { device: { actions: ['read'], rows: 'all', read: [] } } };
    for (const f of deviceFields) doc = setFieldAccess(doc, 'device', deviceFields, f, { read: true });
    expect(doc.permissions.device!.read).toEqual(['*']);
    doc = setAllFields(doc, 'device', deviceFields, { read: false });
    expect(doc.permissions.device!.read).toBeUndefined();
    expect(doc.permissions.device!.deny_read).toBeUndefined();
  });

  it('the "*" form has one cell', () => {
    const doc = role('crm_admin');
    expect(toGrid(doc.permissions[ALL_FORMS], [ALL_FORMS])).toEqual({ '*': { read: true, write: true } });
    const next = setFieldAccess(doc, ALL_FORMS, [ALL_FORMS], ALL_FORMS, { write: false });
    expect(next.permissions[ALL_FORMS]!.write).toBeUndefined();
    expect(next.permissions[ALL_FORMS]!.deny_write).toBeUndefined();
    expect(next.permissions[ALL_FORMS]!.read).toEqual(['*']);
  });

  it('fields a rule names that the form no longer has are kept', () => {
    const doc = role('customer_service'); // deny_write "owner" on customer, written by hand
    const doc2 = clone(doc);
    doc2.permissions.customer!.deny_write = ['gone_field', 'grade'];
    const next = setFieldAccess(doc2, 'customer', fieldsFor('customer'), 'grade', { write: true });
    expect(next.permissions.customer!.deny_write).toEqual(['gone_field']);
  });

  it('canonical rules', () => {
    const fields = ['a', 'b', 'c'];
    expect(gridToRule({ a: { read: true, write: false }, b: { read: true, write: false }, c: { read: true, write: false } }, fields)).toEqual({ read: ['*'] });
    expect(gridToRule({ a: { read: true, write: true }, b: { read: true, write: false }, c: { read: false, write: false } }, fields)).toEqual({
      read: ['*'],
      deny_read: ['c'],
      write: ['a'],
    });
    expect(gridToRule({ a: { read: true, write: true }, b: { read: true, write: true }, c: { read: true, write: false } }, fields)).toEqual({
      read: ['*'],
      write: ['*'],
      deny_write: ['c'],
    });
    expect(gridToRule({ a: { read: false, write: false }, b: { read: false, write: false }, c: { read: false, write: false } }, fields)).toEqual({});
  });
});

describe('action matrix', () => {
  it('ticking an action keeps the canonical order and the rest of the rule', () => {
    const doc = role('engineer');
    const next = setAction(doc, 'device', 'export', true);
    expect(next.permissions.device!.actions).toEqual(['read', 'update', 'export']);
    const { actions: _a, ...rest } = next.permissions.device!;
    const { actions: _b, ...restBefore } = doc.permissions.device!;
    expect(rest).toEqual(restBefore);
    expect(changedForms(doc, next)).toEqual(new Set(['device']));
  });

  it('a list not in canonical order gets the new action at the end', () => {
    const doc: RoleDoc = { key: 'x', label: {}, permissions: { a: { actions: ['update', 'read'] } } };
    expect(setAction(doc, 'a', 'create', true).permissions.a!.actions).toEqual(['update', 'read', 'create']);
  });

  it('a new form gets an entry, and unticking it again removes the entry', () => {
    const doc = role('engineer');
    const ticked = setAction(doc, 'complaint', 'read', true);
    expect(ticked.permissions.complaint).toEqual({ actions: ['read'] });
    const back = setAction(ticked, 'complaint', 'read', false);
    expect(back).toEqual(doc);
    expect(Object.keys(back.permissions)).toEqual(Object.keys(doc.permissions));
  });

  it('unticking every action of an existing form keeps its other rules', () => {
    const doc = role('engineer');
    const next = setAction(doc, 'contract', 'read', false);
    expect(next.permissions.contract).toEqual({ actions: [], rows: 'all', read: ['*'], deny_read: ['amount'] });
  });

  it('matrix rows: "*" first only when used, forms the app lacks kept at the end', () => {
    expect(matrixForms(role('engineer'), ['a', 'device'])).toEqual(['a', 'device', ...Object.keys(role('engineer').permissions).filter((f) => f !== 'device')]);
    expect(matrixForms(role('crm_admin'), ['a'])).toEqual(['*', 'a']);
    const m = toMatrix(role('crm_admin'), ['*', 'a']);
    expect([...m['*']!]).toEqual([...ACTIONS]);
    expect(m.a!.size).toBe(0);
  });
});

describe('row scope', () => {
  it('kinds', () => {
    expect(rowKind(undefined)).toBe('none');
    expect(rowKind('department_tree')).toBe('department_tree');
    expect(rowKind({ filter: { '==': [1, 1] } })).toBe('filter');
    expect(rowKind({ through: 'customer' })).toBe('through');
    expect(rowKind({ something: 1 })).toBe('other');
  });

  it('a through rule is kept by every edit that does not replace it', () => {
    const doc = role('sales');
    expect(setRows(doc, 'contract', 'through')).toBe(doc);
    const next = setFieldAccess(setAction(doc, 'contract', 'export', true), 'contract', fieldsFor('contract'), 'amount', { read: false });
    expect(next.permissions.contract!.rows).toEqual({ through: 'customer' });
    expect(setRows(doc, 'contract', 'own').permissions.contract!.rows).toBe('own');
  });

  it('filters are written as given and removed with "none"', () => {
    const doc = role('engineer');
    const f = { '==': [{ var: 'service_team' }, { var: '$user.department' }] };
    const next = setRows(doc, 'service_order', 'filter', f);
    expect(next.permissions.service_order!.rows).toEqual({ filter: f });
    expect(setRows(next, 'service_order', 'none').permissions.service_order!.rows).toBeUndefined();
    expect(filterText(doc.permissions.service_order!.rows)).toContain('"$user.id"');
  });

  it('filter text is validated as JSON', () => {
    expect(parseFilter('')).toEqual({ ok: false, error: 'empty' });
    expect(parseFilter('{"==": [1, ')).toMatchObject({ ok: false, error: 'json' });
    expect(parseFilter('[1]')).toEqual({ ok: false, error: 'not_object' });
    expect(parseFilter('"x"')).toEqual({ ok: false, error: 'not_object' });
    expect(parseFilter('{"==": [1, 1]}')).toEqual({ ok: true, value: { '==': [1, 1] } });
  });
});

describe('server errors', () => {
  it('pointers are placed next to what they concern', () => {
    const doc = role('engineer');
    expect(errorPlace('/permissions/contract/actions/1', doc)).toEqual({ part: 'actions', form: 'contract' });
    expect(errorPlace('/permissions/contract/deny_read/0', doc)).toEqual({ part: 'fields', form: 'contract', field: 'amount' });
    expect(errorPlace('/permissions/contract/read/7', doc)).toEqual({ part: 'fields', form: 'contract' });
    expect(errorPlace('/permissions/service_order/rows/filter/==/0', doc)).toEqual({ part: 'rows', form: 'service_order' });
    expect(errorPlace('/permissions/nosuch', doc)).toEqual({ part: 'form', form: 'nosuch' });
    expect(errorPlace('/permissions/a~1b/rows', doc)).toEqual({ part: 'rows', form: 'a/b' });
    expect(errorPlace('/label', doc)).toEqual({ part: 'role' });
    expect(errorPlace('', doc)).toEqual({ part: 'role' });
  });
});

describe('jsonEqual', () => {
  it('ignores key order, not list order', () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [2, 1], a: 1 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });
});
