// The permission editor's logic, without React: reading a role document as an action
// matrix, a field grid and a row scope, and writing edits back into the document while
// leaving every part that was not edited exactly as it was (description, other forms,
// `through` rules, unknown keys, the order of lists).
//
// Role documents are described in docs/permissions.md.
import type { Action, Label } from '../api/types.ts';

export const ACTIONS: readonly Action[] = ['create', 'read', 'update', 'delete', 'import', 'export', 'print', 'approve'];

/** The form key of the rule that applies to every form. */
export const ALL_FORMS = '*';

export type RowRule =
  | 'all'
  | 'own'
  | 'department'
  | 'department_tree'
  | { filter: unknown }
  | { through: string }
  // Anything else the server may accept later: kept as is.
  | Record<string, unknown>;

export interface FormRule {
  actions?: string[];
  rows?: RowRule;
  read?: string[];
  deny_read?: string[];
  write?: string[];
  deny_write?: string[];
  [other: string]: unknown;
}

export interface RoleDoc {
  key: string;
  label: Label;
  description?: Label;
  permissions: Record<string, FormRule>;
  [other: string]: unknown;
}

// ---------------------------------------------------------------------------------------
// small helpers

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => k in bo && jsonEqual(ao[k], bo[k]));
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Replace `rule[key]` by `values`; an empty list removes the key. */
function setList(rule: FormRule, key: 'actions' | 'read' | 'deny_read' | 'write' | 'deny_write', values: string[]): void {
  if (values.length === 0 && key !== 'actions') delete rule[key];
  else rule[key] = values;
}

/** A rule that says nothing any more (made by the editor and then emptied again). */
function isEmptyRule(rule: FormRule): boolean {
  return jsonEqual(rule, {}) || jsonEqual(rule, { actions: [] });
}

/** Apply `edit` to a copy of the rule of `form` (created when missing); the entry is
 * removed again when the edit leaves it empty. Returns a new document. */
function editRule(doc: RoleDoc, form: string, edit: (rule: FormRule) => void): RoleDoc {
  const next = clone(doc);
  next.permissions = next.permissions ?? {};
  const rule: FormRule = next.permissions[form] ?? { actions: [] };
  edit(rule);
  if (isEmptyRule(rule)) delete next.permissions[form];
  else next.permissions[form] = rule;
  return next;
}

// ---------------------------------------------------------------------------------------
// the action matrix

/** Form keys shown as matrix rows: `*` first when the role has it, then the app's forms,
 * then forms the role names that the app does not publish (so nothing is hidden). */
export function matrixForms(doc: RoleDoc | null, appForms: string[]): string[] {
  const named = Object.keys(doc?.permissions ?? {});
  const out: string[] = [];
  if (named.includes(ALL_FORMS)) out.push(ALL_FORMS);
  for (const f of appForms) if (!out.includes(f)) out.push(f);
  for (const f of named) if (!out.includes(f)) out.push(f);
  return out;
}

export type Matrix = Record<string, Set<string>>;

/** form → the actions the role allows on it. */
export function toMatrix(doc: RoleDoc, forms: string[]): Matrix {
  const m: Matrix = {};
  for (const f of forms) m[f] = new Set(list(doc.permissions?.[f]?.actions));
  return m;
}

/** Write a whole matrix back: only forms whose set of actions differs are touched. */
export function applyMatrix(doc: RoleDoc, matrix: Matrix): RoleDoc {
  let next = doc;
  for (const [form, actions] of Object.entries(matrix)) {
    const before = new Set(list(doc.permissions?.[form]?.actions));
    for (const a of ACTIONS) {
      if (actions.has(a) !== before.has(a)) next = setAction(next, form, a, actions.has(a));
    }
  }
  return next;
}

/** Allow or withdraw one action on one form. Kept in the canonical order when the list
 * was in it; otherwise the new action is appended (the rest keep their places). */
export function setAction(doc: RoleDoc, form: string, action: string, on: boolean): RoleDoc {
  return editRule(doc, form, (rule) => {
    const cur = list(rule.actions);
    if (on === cur.includes(action)) return;
    if (!on) {
      rule.actions = cur.filter((a) => a !== action);
      return;
    }
    const canonical = cur.every((a, i) => i === 0 || ACTIONS.indexOf(a as Action) > ACTIONS.indexOf(cur[i - 1] as Action));
    const known = cur.every((a) => ACTIONS.includes(a as Action));
    rule.actions =
      canonical && known ? ACTIONS.filter((a) => a === action || cur.includes(a)) : [...cur, action];
  });
}

// ---------------------------------------------------------------------------------------
// the field grid

export interface FieldAccess {
  read: boolean;
  write: boolean;
}
export type Grid = Record<string, FieldAccess>;

function grants(allow: string[], deny: string[], field: string): boolean {
  return (allow.includes('*') || allow.includes(field)) && !deny.includes(field) && !deny.includes('*');
}

/** Is the field readable / writable under this rule? (Writable needs readable.) */
export function fieldAccess(rule: FormRule | undefined, field: string): FieldAccess {
  const read = grants(list(rule?.read), list(rule?.deny_read), field);
  const write = read && grants(list(rule?.write), list(rule?.deny_write), field);
  return { read, write };
}

/** The grid of a form: one row per field. For the `*` form the only "field" is `*`. */
export function toGrid(rule: FormRule | undefined, fields: string[]): Grid {
  const g: Grid = {};
  for (const f of fields) g[f] = fieldAccess(rule, f);
  return g;
}

/** Make `field` allowed / not allowed for one side (read or write) with the smallest
 * change: deny lists are used under `*`, allow lists otherwise. */
function grant(rule: FormRule, allowKey: 'read' | 'write', denyKey: 'deny_read' | 'deny_write', field: string, on: boolean): void {
  const allow = list(rule[allowKey]);
  const deny = list(rule[denyKey]);
  if (on) {
    if (deny.includes(field)) setList(rule, denyKey, deny.filter((f) => f !== field));
    if (!allow.includes('*') && !allow.includes(field)) setList(rule, allowKey, [...allow, field]);
  } else {
    let a = allow;
    if (allow.includes(field)) {
      a = allow.filter((f) => f !== field);
      setList(rule, allowKey, a);
    }
    if (field !== '*' && a.includes('*') && !deny.includes(field) && !deny.includes('*')) setList(rule, denyKey, [...deny, field]);
  }
}

/** When every field of the form is allowed by an explicit list and nothing is denied,
 * say `*` (so the document reads "all fields"). */
function normalise(rule: FormRule, allowKey: 'read' | 'write', denyKey: 'deny_read' | 'deny_write', fields: string[]): void {
  const allow = list(rule[allowKey]);
  const deny = list(rule[denyKey]);
  if (fields.length === 0 || fields.includes('*')) return;
  if (!allow.includes('*') && deny.length === 0 && fields.every((f) => allow.includes(f))) rule[allowKey] = ['*'];
  // "*" but every field denied: say nothing at all.
  if (jsonEqual(allow, ['*']) && fields.every((f) => deny.includes(f)) && deny.every((f) => fields.includes(f))) {
    delete rule[allowKey];
    delete rule[denyKey];
  }
}

/** Set a field's read / write in the rule of `form`. Unticking read also unticks write;
 * ticking write also ticks read. `fields` are all fields of the form (for `*`). */
export function setFieldAccess(doc: RoleDoc, form: string, fields: string[], field: string, change: Partial<FieldAccess>): RoleDoc {
  const before = fieldAccess(doc.permissions?.[form], field);
  const want: FieldAccess = { ...before, ...change };
  if (change.write === true) want.read = true;
  if (change.read === false) want.write = false;
  if (want.read === before.read && want.write === before.write) return doc;
  return editRule(doc, form, (rule) => {
    if (want.read !== before.read) {
      grant(rule, 'read', 'deny_read', field, want.read);
      normalise(rule, 'read', 'deny_read', fields);
    }
    if (want.write !== fieldAccess(rule, field).write) {
      grant(rule, 'write', 'deny_write', field, want.write);
      normalise(rule, 'write', 'deny_write', fields);
    }
  });
}

/** Write a whole grid back: only fields whose access differs are touched. */
export function applyGrid(doc: RoleDoc, form: string, fields: string[], grid: Grid): RoleDoc {
  let next = doc;
  for (const f of fields) {
    const want = grid[f];
    if (!want) continue;
    // Read first (it may withdraw write), then write.
    next = setFieldAccess(next, form, fields, f, { read: want.read });
    next = setFieldAccess(next, form, fields, f, { write: want.write && want.read });
  }
  return next;
}

/** A canonical rule for a grid, written from nothing: all readable → `read: ["*"]`,
 * mostly readable → `*` with `deny_read`, otherwise the list; the same for write. */
export function gridToRule(grid: Grid, fields: string[]): Pick<FormRule, 'read' | 'deny_read' | 'write' | 'deny_write'> {
  const out: Pick<FormRule, 'read' | 'deny_read' | 'write' | 'deny_write'> = {};
  const side = (on: string[], allowKey: 'read' | 'write', denyKey: 'deny_read' | 'deny_write', among: string[]) => {
    if (on.length === 0) return;
    const off = among.filter((f) => !on.includes(f));
    if (off.length === 0) out[allowKey] = ['*'];
    else if (on.length >= off.length) {
      out[allowKey] = ['*'];
      // Unreadable fields are never writable anyway; deny only what the list needs.
      out[denyKey] = allowKey === 'write' ? off.filter((f) => grid[f]?.read) : off;
      if (out[denyKey]?.length === 0) delete out[denyKey];
    } else out[allowKey] = on;
  };
  const readable = fields.filter((f) => grid[f]?.read);
  side(readable, 'read', 'deny_read', fields);
  side(fields.filter((f) => grid[f]?.read && grid[f]?.write), 'write', 'deny_write', fields);
  return out;
}

// ---------------------------------------------------------------------------------------
// sub-table columns
//
// A column is named `table.column` and can only be denied: the server refuses it in
// `read` / `write` (422 `column_rule`). A column is readable when its table is and it is
// not in `deny_read`; writable when its table is writable, it is readable and it is not in
// `deny_write`. So a column is never "more" than its table.

/** How role documents name a sub-table column. */
export function columnKey(table: string, column: string): string {
  return `${table}.${column}`;
}

export interface ColumnAccess extends FieldAccess {
  /** The table is not readable: neither is the column, and its toggles are disabled. */
  readLocked: boolean;
  /** The table is not writable: neither is the column, and its write toggle is disabled. */
  writeLocked: boolean;
}

export function columnAccess(rule: FormRule | undefined, table: string, column: string): ColumnAccess {
  const t = fieldAccess(rule, table);
  const key = columnKey(table, column);
  const read = t.read && !list(rule?.deny_read).includes(key);
  const write = t.write && read && !list(rule?.deny_write).includes(key);
  return { read, write, readLocked: !t.read, writeLocked: !t.write };
}

/** Deny or un-deny one column, like a field: unticking read also unticks write, ticking
 * write also ticks read. Only `deny_read` / `deny_write` are ever touched; asking for what
 * the table does not give changes nothing. (An undo may move a re-created deny list to
 * the end of the rule; its meaning is the same.) */
export function setColumnAccess(doc: RoleDoc, form: string, table: string, column: string, change: Partial<FieldAccess>): RoleDoc {
  const before = columnAccess(doc.permissions?.[form], table, column);
  if ((change.read === true && before.readLocked) || (change.write === true && before.writeLocked)) return doc;
  const want: FieldAccess = { read: before.read, write: before.write, ...change };
  if (change.write === true) want.read = true;
  if (change.read === false) want.write = false;
  if (want.read === before.read && want.write === before.write) return doc;
  const key = columnKey(table, column);
  const deny = (rule: FormRule, denyKey: 'deny_read' | 'deny_write', on: boolean) => {
    const cur = list(rule[denyKey]);
    if (on && !cur.includes(key)) setList(rule, denyKey, [...cur, key]);
    if (!on && cur.includes(key)) setList(rule, denyKey, cur.filter((f) => f !== key));
  };
  return editRule(doc, form, (rule) => {
    if (want.read !== before.read) deny(rule, 'deny_read', !want.read);
    // Write is only edited when asked for: unticking read hides write by itself, and
    // ticking read again gives back what deny_write says.
    if (change.write !== undefined && want.write !== columnAccess(rule, table, column).write) deny(rule, 'deny_write', !want.write);
  });
}

/** The columns of `table` this rule hides. The server lets nobody write a table with a
 * hidden column (they could not send back values they never saw). */
export function hiddenColumns(rule: FormRule | undefined, table: string): string[] {
  const prefix = `${table}.`;
  return list(rule?.deny_read)
    .filter((f) => f.startsWith(prefix))
    .map((f) => f.slice(prefix.length));
}

/** A field of the grid: its key and, for a sub-table, the keys of its columns. */
export interface GridField {
  key: string;
  columns: string[];
}

export type GridRow =
  | ({ kind: 'field'; key: string } & FieldAccess)
  | ({ kind: 'column'; key: string; table: string; column: string } & ColumnAccess);

/** The rows of a form's field grid: each field, and under a sub-table one row per column
 * (keyed `table.column`). */
export function gridRows(rule: FormRule | undefined, fields: GridField[]): GridRow[] {
  const rows: GridRow[] = [];
  for (const f of fields) {
    rows.push({ kind: 'field', key: f.key, ...fieldAccess(rule, f.key) });
    for (const c of f.columns) {
      rows.push({ kind: 'column', key: columnKey(f.key, c), table: f.key, column: c, ...columnAccess(rule, f.key, c) });
    }
  }
  return rows;
}

/** The grid's "all" boxes: every field — and every sub-table column — readable / writable,
 * or none, in one go. Ticking sets the fields first (a column is never more than its
 * table), then lifts the columns' denies. Unticking first forgets the columns' denies of
 * that side (nothing of the tables is left to deny), so "none" leaves no field rules. */
export function setAllFields(doc: RoleDoc, form: string, fields: GridField[], change: Partial<FieldAccess>): RoleDoc {
  const keys = fields.map((f) => f.key);
  const columns = new Set(fields.flatMap((f) => f.columns.map((c) => columnKey(f.key, c))));
  let next = doc;
  const forget = (denyKeys: ('deny_read' | 'deny_write')[]) => {
    const named = denyKeys.some((k) => list(next.permissions?.[form]?.[k]).some((f) => columns.has(f)));
    if (!named) return;
    next = editRule(next, form, (rule) => {
      for (const k of denyKeys) setList(rule, k, list(rule[k]).filter((f) => !columns.has(f)));
    });
  };
  if (change.read === false) forget(['deny_read', 'deny_write']);
  else if (change.write === false) forget(['deny_write']);
  for (const f of keys) next = setFieldAccess(next, form, keys, f, change);
  if (change.read === true || change.write === true) {
    for (const f of fields) for (const c of f.columns) next = setColumnAccess(next, form, f.key, c, change);
  }
  return next;
}

/** The state of an "all" box over the grid's rows, fields and columns alike. */
export function allState(rows: GridRow[], side: 'read' | 'write'): { checked: boolean; indeterminate: boolean } {
  const on = rows.filter((r) => r[side]).length;
  return { checked: rows.length > 0 && on === rows.length, indeterminate: on > 0 && on < rows.length };
}

/** Entries of the rule's field lists that name neither a field nor a column of the form
 * (kept as they are; the editor only mentions them). */
export function otherFieldNames(rule: FormRule | undefined, fields: GridField[]): string[] {
  const known = new Set<string>(['*']);
  for (const f of fields) {
    known.add(f.key);
    for (const c of f.columns) known.add(columnKey(f.key, c));
  }
  const all = [...list(rule?.read), ...list(rule?.deny_read), ...list(rule?.write), ...list(rule?.deny_write)];
  return [...new Set(all.filter((f) => !known.has(f)))];
}

// ---------------------------------------------------------------------------------------
// row scope

export const ROW_KINDS = ['none', 'all', 'own', 'department', 'department_tree', 'filter', 'through', 'other'] as const;
export type RowKind = (typeof ROW_KINDS)[number];
/** The kinds an editor may choose (through and unknown shapes are only kept). */
export const EDITABLE_ROW_KINDS: RowKind[] = ['none', 'all', 'own', 'department', 'department_tree', 'filter'];

export function rowKind(rows: unknown): RowKind {
  if (rows === undefined || rows === null) return 'none';
  if (rows === 'all' || rows === 'own' || rows === 'department' || rows === 'department_tree') return rows;
  if (typeof rows === 'object' && !Array.isArray(rows)) {
    const keys = Object.keys(rows);
    if (keys.length === 1 && keys[0] === 'filter') return 'filter';
    if (keys.length === 1 && keys[0] === 'through') return 'through';
  }
  return 'other';
}

/** Set a form's row scope. `filter` needs the parsed JSON Logic. */
export function setRows(doc: RoleDoc, form: string, kind: RowKind, filter?: unknown): RoleDoc {
  if (kind === 'through' || kind === 'other') return doc; // only kept, never written
  const cur = doc.permissions?.[form]?.rows;
  if (kind === 'filter') {
    if (rowKind(cur) === 'filter' && jsonEqual((cur as { filter: unknown }).filter, filter)) return doc;
  } else if (rowKind(cur) === kind) return doc;
  return editRule(doc, form, (rule) => {
    if (kind === 'none') delete rule.rows;
    else if (kind === 'filter') rule.rows = { filter };
    else rule.rows = kind;
  });
}

/** The text of a filter for the editor. */
export function filterText(rows: unknown): string {
  if (rowKind(rows) !== 'filter') return '';
  return JSON.stringify((rows as { filter: unknown }).filter, null, 2);
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: 'empty' | 'json' | 'not_object'; message?: string };

/** A filter typed by hand: JSON, and a JSON Logic rule is an object (or a constant). */
export function parseFilter(text: string): Parsed {
  if (text.trim() === '') return { ok: false, error: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: 'json', message: e instanceof Error ? e.message : String(e) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    if (typeof value !== 'boolean') return { ok: false, error: 'not_object' };
  }
  return { ok: true, value };
}

// ---------------------------------------------------------------------------------------
// whole documents

/** A new role: key and labels; no permissions yet. */
export function newRole(key: string, zh: string, en: string): RoleDoc {
  const label: Label = {};
  if (zh.trim()) label['zh-CN'] = zh.trim();
  if (en.trim()) label.en = en.trim();
  return { key, label, permissions: {} };
}

export const ROLE_KEY = /^[a-z][a-z0-9_]{0,62}$/;

/** The forms whose rule differs between two documents (for "unsaved" marks). */
export function changedForms(before: RoleDoc | null, after: RoleDoc | null): Set<string> {
  const out = new Set<string>();
  const a = before?.permissions ?? {};
  const b = after?.permissions ?? {};
  for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) if (!jsonEqual(a[f], b[f])) out.add(f);
  return out;
}

// ---------------------------------------------------------------------------------------
// server errors

export interface ErrorPlace {
  /** `role` (key, label…), `form` (the entry itself), `actions`, `fields`, `rows`. */
  part: 'role' | 'form' | 'actions' | 'fields' | 'rows';
  form?: string;
  /** The field an entry of read / write / deny_* names, when the pointer says which. */
  field?: string;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Where a 422 detail belongs, from its JSON pointer into the role document. */
export function errorPlace(pointer: string, doc: RoleDoc | null): ErrorPlace {
  const tokens = pointer.split('/').slice(1).map(unescapeToken);
  if (tokens[0] !== 'permissions' || tokens[1] === undefined) return { part: 'role' };
  const form = tokens[1];
  const part = tokens[2];
  if (part === undefined) return { part: 'form', form };
  if (part === 'actions') return { part: 'actions', form };
  if (part === 'rows') return { part: 'rows', form };
  if (part === 'read' || part === 'deny_read' || part === 'write' || part === 'deny_write') {
    const idx = tokens[3] === undefined ? NaN : Number(tokens[3]);
    const named = Number.isInteger(idx) ? list(doc?.permissions?.[form]?.[part])[idx] : undefined;
    return named === undefined ? { part: 'fields', form } : { part: 'fields', form, field: named };
  }
  return { part: 'form', form };
}

// ---------------------------------------------------------------------------------------
// explain

export interface ExplainAnswer {
  user: string;
  app: string;
  form: string;
  action: string;
  field: string | null;
  allowed: boolean;
  reason: string;
  platform_role: string | null;
  roles: string[];
  matched_rules: { role: string; object: string; action: string; effect: string }[];
  rows: unknown;
}

/** Actions the explain endpoint answers: the form actions, and `write` for fields. */
export const EXPLAIN_ACTIONS: string[] = [...ACTIONS, 'write'];

/** The row rules of an explain answer as short texts. */
export function describeRows(rows: unknown): string[] {
  if (typeof rows === 'string') return [rows];
  if (Array.isArray(rows)) return rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
  if (rows === null || rows === undefined) return [];
  return [JSON.stringify(rows)];
}
