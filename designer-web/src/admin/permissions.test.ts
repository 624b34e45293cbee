import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../forms/model.ts';
import {
  ACTIONS,
  ALL_FORMS,
  allState,
  applyGrid,
  applyMatrix,
  changedForms,
  clone,
  columnAccess,
  errorPlace,
  fieldAccess,
  filterText,
  gridRows,
  gridToRule,
  hiddenColumns,
  jsonEqual,
  matrixForms,
  otherFieldNames,
  parseFilter,
  rowKind,
  setAction,
  setAllFields,
  setColumnAccess,
  setFieldAccess,
  setRows,
  toGrid,
  toMatrix,
  type FormRule,
  type Grid,
  type GridField,
  type RoleDoc,
} from './permissions.ts';

const CRM = fileURLToPath(new URL('../../../seed-apps/medical-device-crm/', import.meta.url));

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

const roleFiles = readdirSync(join(CRM, 'roles')).filter((f) => f.endsWith('.json'));
const roles: RoleDoc[] = roleFiles.map((f) => readJson<RoleDoc>(join(CRM, 'roles', f)));
const formFields: Record<string, string[]> = {};
/** Each form's fields with their sub-table columns, as the field grid reads them. */
const gridFieldsOf: Record<string, GridField[]> = {};
for (const f of readdirSync(join(CRM, 'forms')).filter((n) => n.endsWith('.json'))) {
  const def = readJson<{ key: string; schema: Record<string, unknown> }>(join(CRM, 'forms', f));
  formFields[def.key] = fieldsOf(def.schema).map((x) => x.key);
  gridFieldsOf[def.key] = fieldsOf(def.schema).map((x) => ({
    key: x.key,
    columns: x.type === 'sub_table' ? fieldsOf(x.schema.items as Record<string, unknown>).map((c) => c.key) : [],
  }));
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
    doc = setAllFields(doc, 'device', gridFieldsOf.device!, { read: false });
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

describe('sub-table columns', () => {
  const SO = 'service_order';
  const T = 'parts_used';
  /** Every `table.column` a form has. */
  const columnsOf = (form: string) => (gridFieldsOf[form] ?? []).flatMap((f) => f.columns.map((c) => ({ table: f.key, column: c })));
  /** The entries of read / write of every form (columns must never land there). */
  const allowLists = (doc: RoleDoc) => Object.values(doc.permissions).map((r: FormRule) => [r.read, r.write]);

  it('the CRM has sub-tables to test with', () => {
    expect(columnsOf(SO).map((c) => c.column)).toEqual(['part', 'qty', 'unit_cost']);
  });

  it('the grid shows each sub-table column under its table, keyed table.column', () => {
    const rows = gridRows(role('engineer').permissions[SO], gridFieldsOf[SO]!);
    const i = rows.findIndex((r) => r.key === T);
    expect(rows.slice(i, i + 4).map((r) => [r.kind, r.key])).toEqual([
      ['field', T],
      ['column', 'parts_used.part'],
      ['column', 'parts_used.qty'],
      ['column', 'parts_used.unit_cost'],
    ]);
    // Top-level rows are exactly the form's fields, as before.
    expect(rows.filter((r) => r.kind === 'field').map((r) => r.key)).toEqual(fieldsFor(SO));
  });

  it('a column follows its table unless denied', () => {
    // Engineers write parts_used: its columns are readable and writable.
    expect(columnAccess(role('engineer').permissions[SO], T, 'unit_cost')).toEqual({ read: true, write: true, readLocked: false, writeLocked: false });
    // Customer service reads the orders, may not write parts_used and has unit_cost denied.
    const cs = role('customer_service').permissions[SO];
    expect(columnAccess(cs, T, 'unit_cost')).toEqual({ read: false, write: false, readLocked: false, writeLocked: true });
    expect(columnAccess(cs, T, 'qty')).toEqual({ read: true, write: false, readLocked: false, writeLocked: true });
    expect(hiddenColumns(cs, T)).toEqual(['unit_cost']);
    // The denied column is a known column, not "a field the form does not have".
    expect(otherFieldNames(cs, gridFieldsOf[SO]!)).toEqual([]);
    expect(otherFieldNames({ ...cs, deny_read: ['parts_used.gone', 'gone'] }, gridFieldsOf[SO]!)).toEqual(['parts_used.gone', 'gone']);
  });

  it('unticking a column read adds table.column to deny_read, ticking it again removes it', () => {
    const doc = role('engineer');
    const next = setColumnAccess(doc, SO, T, 'unit_cost', { read: false });
    expect(next.permissions[SO]).toEqual({ ...doc.permissions[SO], deny_read: ['service_fee', 'parts_used.unit_cost'] });
    expect(columnAccess(next.permissions[SO], T, 'unit_cost')).toMatchObject({ read: false, write: false });
    // The table and its other columns are as they were.
    expect(columnAccess(next.permissions[SO], T, 'qty')).toMatchObject({ read: true, write: true });
    expect(hiddenColumns(next.permissions[SO], T)).toEqual(['unit_cost']);
    expect(doc.permissions[SO]!.deny_read).toEqual(['service_fee']);
    const back = setColumnAccess(next, SO, T, 'unit_cost', { read: true });
    expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
  });

  it('a deny_read list made for a column alone goes away again when it is ticked', () => {
    const doc = role('customer_service');
    const next = setColumnAccess(doc, SO, T, 'unit_cost', { read: true });
    expect(next.permissions[SO]!.deny_read).toBeUndefined();
    expect('deny_read' in next.permissions[SO]!).toBe(false);
    expect(setColumnAccess(next, SO, T, 'unit_cost', { read: false })).toEqual(doc);
  });

  it('unticking a column write adds table.column to deny_write, ticking it again removes it', () => {
    const doc = role('engineer');
    const next = setColumnAccess(doc, SO, T, 'unit_cost', { write: false });
    expect(next.permissions[SO]).toEqual({ ...doc.permissions[SO], deny_write: ['parts_used.unit_cost'] });
    expect(columnAccess(next.permissions[SO], T, 'unit_cost')).toMatchObject({ read: true, write: false });
    const back = setColumnAccess(next, SO, T, 'unit_cost', { write: true });
    expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
  });

  it('ticking write of a hidden column ticks read: both denies go', () => {
    const doc = role('engineer');
    const hidden = setColumnAccess(setColumnAccess(doc, SO, T, 'qty', { write: false }), SO, T, 'qty', { read: false });
    expect(hidden.permissions[SO]!.deny_read).toEqual(['service_fee', 'parts_used.qty']);
    expect(hidden.permissions[SO]!.deny_write).toEqual(['parts_used.qty']);
    const back = setColumnAccess(hidden, SO, T, 'qty', { write: true });
    expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
  });

  it('a table that is not readable makes its columns unreadable and locked', () => {
    const doc = setFieldAccess(role('engineer'), SO, fieldsFor(SO), T, { read: false });
    for (const c of ['part', 'qty', 'unit_cost']) {
      expect(columnAccess(doc.permissions[SO], T, c)).toEqual({ read: false, write: false, readLocked: true, writeLocked: true });
      // Ticking a locked column changes nothing (the same document comes back).
      expect(setColumnAccess(doc, SO, T, c, { read: true })).toBe(doc);
      expect(setColumnAccess(doc, SO, T, c, { write: true })).toBe(doc);
      expect(setColumnAccess(doc, SO, T, c, { read: false })).toBe(doc);
    }
    // No rule for the form at all: the same.
    expect(columnAccess(undefined, T, 'qty')).toEqual({ read: false, write: false, readLocked: true, writeLocked: true });
    const none = role('finance');
    delete none.permissions[SO];
    expect(setColumnAccess(none, SO, T, 'qty', { read: true })).toBe(none);
    // Table readable but not writable: read can be denied, write stays locked.
    const cs = role('customer_service');
    expect(setColumnAccess(cs, SO, T, 'qty', { write: true })).toBe(cs);
    expect(setColumnAccess(cs, SO, T, 'qty', { read: false }).permissions[SO]!.deny_read).toEqual(['parts_used.unit_cost', 'parts_used.qty']);
  });

  it('a denied column stays denied while its table is switched off and on', () => {
    const doc = setColumnAccess(role('engineer'), SO, T, 'unit_cost', { read: false });
    const off = setFieldAccess(doc, SO, fieldsFor(SO), T, { read: false });
    const on = setFieldAccess(off, SO, fieldsFor(SO), T, { read: true, write: true });
    expect(columnAccess(on.permissions[SO], T, 'unit_cost')).toMatchObject({ read: false, write: false, readLocked: false });
    expect(columnAccess(on.permissions[SO], T, 'qty')).toMatchObject({ read: true, write: true });
  });

  for (const file of roleFiles) {
    it(`${file}: no column toggle ever puts table.column into read or write, and each is undone`, () => {
      const original = readJson<RoleDoc>(join(CRM, 'roles', file));
      const text = JSON.stringify(original);
      const changes = [{ read: false }, { read: true }, { write: false }, { write: true }, { read: false, write: false }, { read: true, write: true }];
      for (const form of Object.keys(original.permissions)) {
        for (const { table, column } of columnsOf(form)) {
          const before = columnAccess(original.permissions[form], table, column);
          for (const change of changes) {
            const next = setColumnAccess(original, form, table, column, change);
            expect(allowLists(next)).toEqual(allowLists(original));
            expect(allowLists(next).flat(2).some((f) => typeof f === 'string' && f.includes('.'))).toBe(false);
            // Only this form's deny lists may change, and the table is untouched.
            expect([...changedForms(original, next)].every((f) => f === form)).toBe(true);
            expect(toGrid(next.permissions[form], fieldsFor(form))).toEqual(toGrid(original.permissions[form], fieldsFor(form)));
            const back = setColumnAccess(next, form, table, column, { read: before.read, write: before.write });
            // The same document (a deny list made again may come back at the end of its rule).
            expect(back).toEqual(original);
          }
        }
      }
      expect(JSON.stringify(original)).toBe(text);
    });
  }

  describe('the "all" boxes', () => {
    /** Is every row (fields and columns) of the form readable / writable? */
    const every = (doc: RoleDoc, form: string, side: 'read' | 'write') => gridRows(doc.permissions[form], gridFieldsOf[form]!).every((r) => r[side]);

    it('"all read" makes a denied column readable again', () => {
      const doc = setColumnAccess(role('engineer'), SO, T, 'unit_cost', { read: false });
      const next = setAllFields(doc, SO, gridFieldsOf[SO]!, { read: true });
      expect(columnAccess(next.permissions[SO], T, 'unit_cost')).toMatchObject({ read: true, write: true });
      expect(every(next, SO, 'read')).toBe(true);
      // service_fee (denied to engineers) is readable too; nothing is denied any more.
      expect(next.permissions[SO]!.deny_read).toBeUndefined();
      expect(next.permissions[SO]!.read).toEqual(['*']);
    });

    it('"all write" makes every field and column writable, columns only through the deny lists', () => {
      const doc = role('customer_service'); // parts_used not writable, unit_cost hidden
      const next = setAllFields(doc, SO, gridFieldsOf[SO]!, { write: true });
      expect(every(next, SO, 'read')).toBe(true);
      expect(every(next, SO, 'write')).toBe(true);
      expect(hiddenColumns(next.permissions[SO], T)).toEqual([]);
      const r = next.permissions[SO]!;
      for (const list of [r.read, r.write, r.deny_read, r.deny_write]) expect((list ?? []).some((f) => f.includes('.'))).toBe(false);
      // The rest of the rule is as it was.
      expect(r.actions).toEqual(doc.permissions[SO]!.actions);
      expect(r.rows).toEqual(doc.permissions[SO]!.rows);
    });

    it('"all write" lifts a column\'s deny_write', () => {
      const doc = setColumnAccess(role('engineer'), SO, T, 'qty', { write: false });
      expect(doc.permissions[SO]!.deny_write).toEqual(['parts_used.qty']);
      const next = setAllFields(doc, SO, gridFieldsOf[SO]!, { write: true });
      expect(columnAccess(next.permissions[SO], T, 'qty')).toMatchObject({ read: true, write: true });
      expect(next.permissions[SO]!.deny_write).toBeUndefined();
    });

    it('unticking "all read" leaves no field rules, column denies included', () => {
      const doc = setColumnAccess(setColumnAccess(role('engineer'), SO, T, 'qty', { write: false }), SO, T, 'unit_cost', { read: false });
      const off = setAllFields(doc, SO, gridFieldsOf[SO]!, { read: false });
      expect(gridRows(off.permissions[SO], gridFieldsOf[SO]!).some((r) => r.read || r.write)).toBe(false);
      const { read, deny_read, deny_write } = off.permissions[SO]!;
      expect({ read, deny_read, deny_write }).toEqual({ read: undefined, deny_read: undefined, deny_write: undefined });
      const on = setAllFields(off, SO, gridFieldsOf[SO]!, { write: true });
      expect(every(on, SO, 'read')).toBe(true);
      expect(every(on, SO, 'write')).toBe(true);
    });

    it('unticking "all write" forgets the columns\' deny_write and keeps their deny_read', () => {
      const doc = setColumnAccess(setColumnAccess(role('engineer'), SO, T, 'qty', { write: false }), SO, T, 'unit_cost', { read: false });
      const off = setAllFields(doc, SO, gridFieldsOf[SO]!, { write: false });
      expect(every(off, SO, 'write')).toBe(false);
      expect(gridRows(off.permissions[SO], gridFieldsOf[SO]!).some((r) => r.write)).toBe(false);
      expect(off.permissions[SO]!.deny_write).toBeUndefined();
      expect(off.permissions[SO]!.deny_read).toEqual(['service_fee', 'parts_used.unit_cost']);
      expect(columnAccess(off.permissions[SO], T, 'qty')).toMatchObject({ read: true, write: false });
    });

    it('the boxes count columns: one denied column makes "all read" partial', () => {
      const doc = role('engineer');
      const rule = setAllFields(doc, SO, gridFieldsOf[SO]!, { read: true }).permissions[SO];
      expect(allState(gridRows(rule, gridFieldsOf[SO]!), 'read')).toEqual({ checked: true, indeterminate: false });
      const hidden = setColumnAccess(setAllFields(doc, SO, gridFieldsOf[SO]!, { read: true }), SO, T, 'unit_cost', { read: false });
      expect(allState(gridRows(hidden.permissions[SO], gridFieldsOf[SO]!), 'read')).toEqual({ checked: false, indeterminate: true });
      expect(allState(gridRows(undefined, gridFieldsOf[SO]!), 'read')).toEqual({ checked: false, indeterminate: false });
      expect(allState([], 'read')).toEqual({ checked: false, indeterminate: false });
    });

    for (const file of roleFiles) {
      it(`${file}: "all read" / "all write" cover every column of every form`, () => {
        const original = readJson<RoleDoc>(join(CRM, 'roles', file));
        for (const form of Object.keys(gridFieldsOf)) {
          const read = setAllFields(original, form, gridFieldsOf[form]!, { read: true });
          expect(every(read, form, 'read')).toBe(true);
          const write = setAllFields(original, form, gridFieldsOf[form]!, { write: true });
          expect(every(write, form, 'write')).toBe(true);
          // Other forms are untouched, and columns never land in read / write.
          expect([...changedForms(original, write)].every((f) => f === form)).toBe(true);
          expect(allowLists(write).flat(2).some((f) => typeof f === 'string' && f.includes('.'))).toBe(false);
        }
      });
    }
  });

  it('a server error about a column is placed on its row', () => {
    expect(errorPlace('/permissions/service_order/deny_read/0', role('customer_service'))).toEqual({
      part: 'fields',
      form: SO,
      field: 'parts_used.unit_cost',
    });
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
