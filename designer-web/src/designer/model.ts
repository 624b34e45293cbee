// The form designer's model: a tree of layout nodes (fields, groups, columns) plus the
// schema-level parts a designer edits (required, required-when rules), with pure
// operations on it and the conversion to and from a form definition
// ({key, label, schema, layout}). No React here: everything is unit-tested.
//
// Every operation takes a state and returns a new one (the input is never changed).
// Unknown parts of a loaded definition (schema keywords, `$defs`, layout keys, property
// keywords the designer does not edit) are kept and written back unchanged.
import type { FormDefinition, JsonSchema, LayoutNode, LayoutRule } from '../api/types.ts';
import { FIELD_TYPES, type FieldType } from '../forms/model.ts';

export type Label = Record<string, string>;
export type NodeId = string;

/** The drop target that is the canvas itself. */
export const ROOT: NodeId = 'root';

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
export const KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;

/** A field: a `Control` in the layout and a property of the schema. A sub-table's
 * columns are fields too (`columns`, its `items.properties`). */
export interface FieldNode {
  id: NodeId;
  kind: 'field';
  key: string;
  /** The property schema. For a sub-table, without `items.properties` (see `columns`). */
  schema: JsonSchema;
  columns?: FieldNode[];
  rule?: LayoutRule;
  /** Other keys of the layout `Control` (kept as they were). */
  extra?: Record<string, unknown>;
}

/** A layout element holding others: Group (titled), HorizontalLayout (side by side) or a
 * nested VerticalLayout. */
export interface ContainerNode {
  id: NodeId;
  kind: 'group' | 'row' | 'vertical';
  label?: Label;
  children: LayoutItem[];
  rule?: LayoutRule;
  extra?: Record<string, unknown>;
}

export type LayoutItem = FieldNode | ContainerNode;

/** "`fields` are required when `when` equals `value`" — a schema `if`/`then`. */
export interface RequiredWhen {
  id: string;
  fields: string[];
  when: string;
  value: unknown;
  /** Written as the schema's own `if`/`then` (as loaded) instead of an `allOf` entry. */
  root?: boolean;
}

export interface DesignerState {
  key: string;
  label: Label;
  /** Other keys of the definition (description, indexes, …). */
  defExtra: Record<string, unknown>;
  /** The schema without `properties`, `required` and the parsed required-when rules. */
  schemaExtra: JsonSchema;
  required: string[];
  requiredWhen: RequiredWhen[];
  /** Keys of the root VerticalLayout other than type/elements. */
  layoutExtra: Record<string, unknown>;
  root: LayoutItem[];
  /** Root field keys in schema `properties` order. */
  order: string[];
  nextId: number;
  /** Id of the node the last add created (for selecting it). */
  lastAdded?: NodeId;
}

// ---------------------------------------------------------------------------------------
// Field types: names and the schema a new field starts with.

export const TYPE_LABELS: Record<FieldType, Label> = {
  text: { 'zh-CN': '单行文本', en: 'Text' },
  long_text: { 'zh-CN': '多行文本', en: 'Long text' },
  number: { 'zh-CN': '数字', en: 'Number' },
  integer: { 'zh-CN': '整数', en: 'Integer' },
  money: { 'zh-CN': '金额', en: 'Money' },
  date: { 'zh-CN': '日期', en: 'Date' },
  datetime: { 'zh-CN': '日期时间', en: 'Date and time' },
  select: { 'zh-CN': '单选', en: 'Select' },
  multi_select: { 'zh-CN': '多选', en: 'Multi-select' },
  boolean: { 'zh-CN': '是/否', en: 'Yes/No' },
  email: { 'zh-CN': '邮箱', en: 'Email' },
  cn_mobile: { 'zh-CN': '手机号', en: 'Mobile number' },
  uscc: { 'zh-CN': '统一社会信用代码', en: 'Social credit code' },
  region: { 'zh-CN': '地区', en: 'Region' },
  member: { 'zh-CN': '成员', en: 'Member' },
  department: { 'zh-CN': '部门', en: 'Department' },
  reference: { 'zh-CN': '关联记录', en: 'Reference' },
  sub_table: { 'zh-CN': '子表', en: 'Sub-table' },
  attachment: { 'zh-CN': '附件', en: 'Attachment' },
  signature: { 'zh-CN': '签名', en: 'Signature' },
  serial: { 'zh-CN': '流水号', en: 'Serial number' },
  computed: { 'zh-CN': '计算字段', en: 'Computed' },
};

export const FILE_DEF: JsonSchema = {
  type: 'object',
  properties: {
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    name: { type: 'string' },
    size: { type: 'integer' },
    content_type: { type: 'string' },
  },
  required: ['sha256', 'name'],
  additionalProperties: false,
};

function optionsTemplate(): { enum: string[]; 'x-options': Record<string, Label> } {
  return {
    enum: ['option_1', 'option_2'],
    'x-options': {
      option_1: { 'zh-CN': '选项1', en: 'Option 1' },
      option_2: { 'zh-CN': '选项2', en: 'Option 2' },
    },
  };
}

/** The property schema of a new field of this type (without `x-label`). */
export function typeTemplate(type: FieldType): JsonSchema {
  switch (type) {
    case 'text':
    case 'date':
    case 'datetime':
    case 'cn_mobile':
    case 'uscc':
    case 'member':
    case 'department':
      return { type: 'string', 'x-type': type };
    case 'long_text':
      return { type: 'string', 'x-type': type, maxLength: 5000 };
    case 'email':
      return { type: 'string', 'x-type': type, maxLength: 254 };
    case 'number':
      return { type: 'number', 'x-type': type };
    case 'integer':
      return { type: 'integer', 'x-type': type };
    case 'money':
      return { type: 'number', 'x-type': type, 'x-currency': 'CNY', minimum: 0 };
    case 'boolean':
      return { type: 'boolean', 'x-type': type };
    case 'select': {
      const o = optionsTemplate();
      return { type: 'string', 'x-type': type, enum: o.enum, 'x-options': o['x-options'] };
    }
    case 'multi_select': {
      const o = optionsTemplate();
      return {
        type: 'array',
        'x-type': type,
        items: { type: 'string', enum: o.enum },
        uniqueItems: true,
        'x-options': o['x-options'],
      };
    }
    case 'region':
      return {
        type: 'object',
        'x-type': type,
        properties: { province: { type: 'string' }, city: { type: 'string' }, district: { type: 'string' } },
        required: ['province'],
        additionalProperties: false,
      };
    case 'reference':
      return { type: 'integer', 'x-type': type, 'x-ref': { form: '', display: '' } };
    case 'sub_table':
      return { type: 'array', 'x-type': type, items: { type: 'object', additionalProperties: false } };
    case 'attachment':
      return { type: 'array', 'x-type': type, maxItems: 10, items: { $ref: '#/$defs/file' } };
    case 'signature':
      return { 'x-type': type, $ref: '#/$defs/file', 'x-accept': ['image/png'] };
    case 'serial':
      return { type: 'string', 'x-type': type, 'x-serial': 'NO-{yyyyMMdd}-{0000}', readOnly: true };
    case 'computed':
      return { type: 'number', 'x-type': type, 'x-formula': { '+': [0, 0] }, readOnly: true };
  }
}

export function typeOf(schema: JsonSchema): FieldType {
  const t = schema['x-type'];
  return (FIELD_TYPES as readonly string[]).includes(t) ? (t as FieldType) : 'text';
}

// ---------------------------------------------------------------------------------------
// Helpers

const clone = <T>(v: T): T => structuredClone(v);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

function without(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

function newId(s: DesignerState): NodeId {
  const id = `n${s.nextId}`;
  s.nextId += 1;
  return id;
}

/** Every node of the tree, depth first (containers before their children; sub-table
 * columns after their table). */
export function allNodes(s: DesignerState): { node: LayoutItem | FieldNode; parent: NodeId; index: number; depth: number }[] {
  const out: { node: LayoutItem | FieldNode; parent: NodeId; index: number; depth: number }[] = [];
  const visit = (items: LayoutItem[], parent: NodeId, depth: number) => {
    items.forEach((n, index) => {
      out.push({ node: n, parent, index, depth });
      if (n.kind === 'field') n.columns?.forEach((c, ci) => out.push({ node: c, parent: n.id, index: ci, depth: depth + 1 }));
      else visit(n.children, n.id, depth + 1);
    });
  };
  visit(s.root, ROOT, 0);
  return out;
}

export function findNode(s: DesignerState, id: NodeId) {
  return allNodes(s).find((e) => e.node.id === id) ?? null;
}

/** Root-level fields (not sub-table columns), in layout order. */
export function rootFields(s: DesignerState): FieldNode[] {
  const out: FieldNode[] = [];
  const visit = (items: LayoutItem[]) => {
    for (const n of items) {
      if (n.kind === 'field') out.push(n);
      else visit(n.children);
    }
  };
  visit(s.root);
  return out;
}

export function fieldByKey(s: DesignerState, key: string): FieldNode | undefined {
  return rootFields(s).find((f) => f.key === key);
}

/** Is `id` a sub-table column (its parent is a field)? */
export function isColumn(s: DesignerState, id: NodeId): boolean {
  const e = findNode(s, id);
  return !!e && e.parent !== ROOT && findNode(s, e.parent)?.node.kind === 'field';
}

/** The child list of a drop target: the canvas, a container, or a sub-table's columns. */
function childList(s: DesignerState, target: NodeId): (LayoutItem | FieldNode)[] | null {
  if (target === ROOT) return s.root;
  const e = findNode(s, target);
  if (!e) return null;
  if (e.node.kind === 'field') return typeOf(e.node.schema) === 'sub_table' ? (e.node.columns ??= []) : null;
  return e.node.children;
}

function isSubTableTarget(s: DesignerState, target: NodeId): boolean {
  if (target === ROOT) return false;
  const e = findNode(s, target);
  return !!e && e.node.kind === 'field';
}

function subtreeIds(n: LayoutItem | FieldNode): Set<NodeId> {
  const ids = new Set<NodeId>([n.id]);
  const visit = (x: LayoutItem | FieldNode) => {
    ids.add(x.id);
    if (x.kind === 'field') x.columns?.forEach(visit);
    else x.children.forEach(visit);
  };
  visit(n);
  return ids;
}

function uniqueKey(base: string, taken: Set<string>): string {
  const b = base.slice(0, 56);
  if (!taken.has(b) && KEY_RE.test(b)) return b;
  for (let i = 1; ; i++) {
    const k = `${b}_${i}`;
    if (!taken.has(k)) return k;
  }
}

function columnKeys(table: FieldNode): Set<string> {
  return new Set((table.columns ?? []).map((c) => c.key));
}

// ---------------------------------------------------------------------------------------
// Creating and loading

export function emptyState(key: string, label: Label): DesignerState {
  return {
    key,
    label: { ...label },
    defExtra: {},
    schemaExtra: { $schema: DRAFT_2020_12, type: 'object', additionalProperties: false },
    required: [],
    requiredWhen: [],
    layoutExtra: {},
    root: [],
    order: [],
    nextId: 1,
  };
}

function parseRequiredWhen(entry: unknown): Omit<RequiredWhen, 'id'> | null {
  if (!isObj(entry)) return null;
  const keys = Object.keys(entry).sort().join(',');
  if (keys !== 'if,then') return null;
  const cond = entry.if;
  const then = entry.then;
  if (!isObj(cond) || !isObj(then)) return null;
  if (Object.keys(cond).sort().join(',') !== 'properties,required') return null;
  if (Object.keys(then).join(',') !== 'required') return null;
  const props = cond.properties;
  if (!isObj(props)) return null;
  const names = Object.keys(props);
  if (names.length !== 1) return null;
  const when = names[0]!;
  const p = props[when];
  if (!isObj(p) || Object.keys(p).join(',') !== 'const') return null;
  if (!Array.isArray(cond.required) || cond.required.length !== 1 || cond.required[0] !== when) return null;
  if (!Array.isArray(then.required) || !then.required.every((x) => typeof x === 'string') || then.required.length === 0)
    return null;
  return { fields: [...(then.required as string[])], when, value: p.const };
}

export function requiredWhenSchema(r: RequiredWhen): JsonSchema {
  return {
    if: { properties: { [r.when]: { const: r.value } }, required: [r.when] },
    then: { required: [...r.fields] },
  };
}

/** The designer state of a form definition. */
export function fromDefinition(def: FormDefinition): DesignerState {
  const s = emptyState(def.key, def.label ?? {});
  s.defExtra = without(clone(def) as unknown as Record<string, unknown>, ['key', 'label', 'schema', 'layout']);
  const schema = clone(def.schema ?? {});
  const props = (isObj(schema.properties) ? schema.properties : {}) as Record<string, JsonSchema>;
  s.required = Array.isArray(schema.required) ? [...(schema.required as string[])] : [];
  const extra = without(schema, ['properties', 'required']) as JsonSchema;
  const rw: RequiredWhen[] = [];
  let rwId = 1;
  if ('if' in extra && 'then' in extra && !('else' in extra)) {
    const parsed = parseRequiredWhen({ if: extra.if, then: extra.then });
    if (parsed) {
      rw.push({ id: `r${rwId++}`, ...parsed, root: true });
      delete extra.if;
      delete extra.then;
    }
  }
  if (Array.isArray(extra.allOf)) {
    const rest: unknown[] = [];
    for (const entry of extra.allOf as unknown[]) {
      const parsed = parseRequiredWhen(entry);
      if (parsed) rw.push({ id: `r${rwId++}`, ...parsed });
      else rest.push(entry);
    }
    if (rest.length > 0) extra.allOf = rest;
    else delete extra.allOf;
  }
  s.schemaExtra = extra;
  s.requiredWhen = rw;
  s.order = Object.keys(props);

  const makeField = (key: string, prop: JsonSchema): FieldNode => {
    const node: FieldNode = { id: newId(s), kind: 'field', key, schema: prop };
    if (typeOf(prop) === 'sub_table') {
      const items = isObj(prop.items) ? (prop.items as JsonSchema) : {};
      const cols = (isObj(items.properties) ? items.properties : {}) as Record<string, JsonSchema>;
      node.columns = Object.entries(cols).map(([ck, cp]) => ({ id: newId(s), kind: 'field', key: ck, schema: cp }));
      if (isObj(prop.items)) delete (prop.items as JsonSchema).properties;
    }
    return node;
  };

  const used = new Set<string>();
  const convert = (el: LayoutNode): LayoutItem | null => {
    const raw = el as unknown as Record<string, unknown>;
    if (el.type === 'Control') {
      const m = /^#\/properties\/([^/]+)$/.exec(el.scope ?? '');
      const key = m?.[1];
      if (!key || !(key in props) || used.has(key)) return null;
      used.add(key);
      const node = makeField(key, props[key]!);
      if (el.rule) node.rule = el.rule;
      const rest = without(raw, ['type', 'scope', 'rule']);
      if (Object.keys(rest).length > 0) node.extra = rest;
      return node;
    }
    const kind = el.type === 'Group' ? 'group' : el.type === 'HorizontalLayout' ? 'row' : 'vertical';
    const node: ContainerNode = { id: newId(s), kind, children: [] };
    if (el.label !== undefined) node.label = el.label;
    if (el.rule) node.rule = el.rule;
    const keep = ['VerticalLayout', 'HorizontalLayout', 'Group'].includes(el.type) ? ['type'] : [];
    const rest = without(raw, [...keep, 'label', 'rule', 'elements']);
    if (Object.keys(rest).length > 0) node.extra = rest;
    node.children = (el.elements ?? []).map(convert).filter((x): x is LayoutItem => x !== null);
    return node;
  };

  const layout = def.layout;
  if (layout && layout.type === 'VerticalLayout') {
    s.layoutExtra = without(layout as unknown as Record<string, unknown>, ['type', 'elements']);
    s.root = (layout.elements ?? []).map(convert).filter((x): x is LayoutItem => x !== null);
  } else if (layout) {
    const one = convert(layout);
    s.root = one ? [one] : [];
  }
  for (const key of s.order) if (!used.has(key)) s.root.push(makeField(key, props[key]!));
  return s;
}

function needsFileDef(s: DesignerState): boolean {
  const all = allNodes(s);
  return all.some((e) => e.node.kind === 'field' && ['attachment', 'signature'].includes(typeOf(e.node.schema)));
}

/** The property schema a field node stands for (sub-table columns put back). */
export function fieldSchema(n: FieldNode): JsonSchema {
  if (!n.columns) return n.schema;
  const items = isObj(n.schema.items) ? n.schema.items : {};
  return {
    ...n.schema,
    items: { ...items, properties: Object.fromEntries(n.columns.map((c) => [c.key, c.schema])) },
  };
}

function emitNode(n: LayoutItem): LayoutNode {
  if (n.kind === 'field') {
    const out: Record<string, unknown> = { type: 'Control', scope: `#/properties/${n.key}`, ...(n.extra ?? {}) };
    if (n.rule) out.rule = n.rule;
    return out as unknown as LayoutNode;
  }
  const type = n.kind === 'group' ? 'Group' : n.kind === 'row' ? 'HorizontalLayout' : 'VerticalLayout';
  const out: Record<string, unknown> = { type, ...(n.extra ?? {}) };
  if (n.label !== undefined) out.label = n.label;
  out.elements = n.children.map(emitNode);
  if (n.rule) out.rule = n.rule;
  return out as unknown as LayoutNode;
}

const SCHEMA_HEAD = ['$schema', '$id', '$defs', 'type'];

/** The form definition the state stands for. */
export function toDefinition(s: DesignerState): FormDefinition {
  const byKey = new Map(rootFields(s).map((f) => [f.key, f]));
  const properties: Record<string, JsonSchema> = {};
  for (const key of s.order) {
    const f = byKey.get(key);
    if (f) properties[key] = clone(fieldSchema(f));
  }
  for (const [key, f] of byKey) if (!(key in properties)) properties[key] = clone(fieldSchema(f));

  const extra = clone(s.schemaExtra);
  if (needsFileDef(s)) {
    const defs = isObj(extra.$defs) ? extra.$defs : {};
    if (!('file' in defs)) extra.$defs = { ...defs, file: clone(FILE_DEF) };
  }
  const schema: JsonSchema = {};
  for (const k of SCHEMA_HEAD) if (k in extra) schema[k] = extra[k];
  schema.properties = properties;
  const required = s.required.filter((k) => byKey.has(k));
  if (required.length > 0) schema.required = required;
  for (const [k, v] of Object.entries(extra)) if (!SCHEMA_HEAD.includes(k)) schema[k] = v;
  const rootRule = s.requiredWhen.find((r) => r.root);
  if (rootRule && !('if' in schema) && !('then' in schema)) Object.assign(schema, requiredWhenSchema(rootRule));
  const rest = s.requiredWhen.filter((r) => r !== rootRule || 'if' in extra || 'then' in extra);
  if (rest.length > 0) {
    schema.allOf = [...((extra.allOf as unknown[] | undefined) ?? []), ...rest.map(requiredWhenSchema)];
  }

  const layout = {
    type: 'VerticalLayout',
    ...clone(s.layoutExtra),
    elements: s.root.map(emitNode),
  } as unknown as LayoutNode;
  const def: Record<string, unknown> = { key: s.key, label: clone(s.label), ...clone(s.defExtra), schema, layout };
  return def as unknown as FormDefinition;
}

// ---------------------------------------------------------------------------------------
// Operations

export interface AddOptions {
  key?: string;
  label?: Label;
  /** Property keywords to set on top of the type's template (e.g. `x-ref`). */
  schema?: JsonSchema;
}

/** Add a field of `type` into `target` (ROOT, a group/row, or a sub-table for a column)
 * at `index`. Refused (state returned unchanged) for a sub-table inside a sub-table. */
export function addField(state: DesignerState, type: FieldType, target: NodeId, index: number, opts: AddOptions = {}): DesignerState {
  const s = clone(state);
  const list = childList(s, target);
  if (!list) return state;
  const column = isSubTableTarget(s, target);
  if (column && type === 'sub_table') return state;
  const taken = column ? columnKeys(findNode(s, target)!.node as FieldNode) : new Set(rootFields(s).map((f) => f.key));
  const n = (() => {
    for (let i = 1; ; i++) if (!taken.has(`${type}_${i}`)) return i;
  })();
  const key = opts.key && KEY_RE.test(opts.key) && !taken.has(opts.key) ? opts.key : opts.key ? uniqueKey(opts.key, taken) : `${type}_${n}`;
  const typeLabel = TYPE_LABELS[type];
  const label = opts.label ?? { 'zh-CN': `${typeLabel['zh-CN']}${n}`, en: `${typeLabel.en} ${n}` };
  const tpl = typeTemplate(type);
  const schema: JsonSchema = { ...tpl, 'x-label': label, ...(opts.schema ?? {}) };
  // x-type, type and x-label first, in that order, for readable output.
  const ordered: JsonSchema = {};
  for (const k of ['type', 'x-type', 'x-label']) if (k in schema) ordered[k] = schema[k];
  for (const [k, v] of Object.entries(schema)) if (!(k in ordered)) ordered[k] = v;
  const node: FieldNode = { id: newId(s), kind: 'field', key, schema: ordered };
  if (type === 'sub_table') node.columns = [];
  list.splice(clampIndex(index, list.length), 0, node);
  if (!column) s.order.push(key);
  s.lastAdded = node.id;
  return s;
}

function clampIndex(i: number, len: number): number {
  return Number.isFinite(i) ? Math.max(0, Math.min(len, Math.floor(i))) : len;
}

/** Add an empty Group (with a label) or HorizontalLayout ("columns"). */
export function addContainer(state: DesignerState, kind: 'group' | 'row', target: NodeId, index: number, label?: Label): DesignerState {
  const s = clone(state);
  if (isSubTableTarget(s, target)) return state;
  const list = childList(s, target) as LayoutItem[] | null;
  if (!list) return state;
  const node: ContainerNode = { id: newId(s), kind, children: [] };
  if (kind === 'group') node.label = label ?? { 'zh-CN': '分组', en: 'Group' };
  list.splice(clampIndex(index, list.length), 0, node);
  s.lastAdded = node.id;
  return s;
}

function detach(s: DesignerState, id: NodeId): { node: LayoutItem | FieldNode; parent: NodeId } | null {
  const e = findNode(s, id);
  if (!e) return null;
  const list = childList(s, e.parent)!;
  list.splice(e.index, 1);
  return { node: e.node, parent: e.parent };
}

/** Drop every schema-level reference to root fields that no longer exist as such. */
function forgetRootKeys(s: DesignerState, keys: Set<string>) {
  if (keys.size === 0) return;
  s.order = s.order.filter((k) => !keys.has(k));
  s.required = s.required.filter((k) => !keys.has(k));
  s.requiredWhen = s.requiredWhen
    .filter((r) => !keys.has(r.when))
    .map((r) => ({ ...r, fields: r.fields.filter((f) => !keys.has(f)) }))
    .filter((r) => r.fields.length > 0);
  const idx = s.defExtra.indexes;
  if (Array.isArray(idx)) {
    const kept = (idx as string[][]).filter((ix) => !ix.some((k) => keys.has(k)));
    if (kept.length > 0) s.defExtra.indexes = kept;
    else delete s.defExtra.indexes;
  }
}

function fieldKeysIn(n: LayoutItem | FieldNode): string[] {
  if (n.kind === 'field') return [n.key];
  return n.children.flatMap(fieldKeysIn);
}

/** Move a node to `target` at `index` (the position among the target's children after the
 * node has been taken out). Refused for moves into the node itself, containers into
 * sub-tables, and sub-tables into sub-tables. A field moved into a sub-table becomes a
 * column (its required flag goes along); a column moved out becomes a field. */
export function move(state: DesignerState, id: NodeId, target: NodeId, index: number): DesignerState {
  const s = clone(state);
  const from = findNode(s, id);
  if (!from) return state;
  if (subtreeIds(from.node).has(target)) return state;
  const toTable = isSubTableTarget(s, target);
  const fromTable = from.parent !== ROOT && findNode(s, from.parent)?.node.kind === 'field';
  const node = from.node;
  if (toTable && (node.kind !== 'field' || typeOf(node.schema) === 'sub_table')) return state;
  if (!childList(s, target)) return state;
  detach(s, id);
  if (node.kind === 'field' && (toTable || fromTable) && !(fromTable && toTable && from.parent === target)) {
    const wasRequired = fromTable
      ? ((findNode(s, from.parent)!.node as FieldNode).schema.items?.required ?? []).includes(node.key)
      : s.required.includes(node.key);
    if (fromTable) setColumnRequired(findNode(s, from.parent)!.node as FieldNode, node.key, false);
    else forgetRootKeys(s, new Set([node.key]));
    delete node.rule;
    const taken = toTable ? columnKeys(findNode(s, target)!.node as FieldNode) : new Set(rootFields(s).map((f) => f.key));
    node.key = uniqueKey(node.key, taken);
    if (toTable) {
      if (wasRequired) setColumnRequired(findNode(s, target)!.node as FieldNode, node.key, true);
    } else {
      s.order.push(node.key);
      if (wasRequired) s.required.push(node.key);
    }
  }
  const list = childList(s, target)!;
  list.splice(clampIndex(index, list.length), 0, node);
  return s;
}

function setColumnRequired(table: FieldNode, key: string, on: boolean) {
  const items = (table.schema.items ??= { type: 'object', additionalProperties: false }) as JsonSchema;
  const req = new Set<string>((items.required as string[] | undefined) ?? []);
  const list = ((items.required as string[] | undefined) ?? []).filter((k) => k !== key);
  if (on) list.push(key);
  if (on || req.has(key)) {
    if (list.length > 0) items.required = list;
    else delete items.required;
  }
}

/** Remove a node with everything in it. */
export function remove(state: DesignerState, id: NodeId): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e) return state;
  const parentNode = e.parent === ROOT ? null : findNode(s, e.parent)?.node;
  detach(s, id);
  if (parentNode?.kind === 'field') setColumnRequired(parentNode, (e.node as FieldNode).key, false);
  else forgetRootKeys(s, new Set(fieldKeysIn(e.node)));
  return s;
}

/** Replace a container by its children. */
export function unwrap(state: DesignerState, id: NodeId): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || e.node.kind === 'field') return state;
  const list = childList(s, e.parent) as LayoutItem[];
  list.splice(e.index, 1, ...e.node.children);
  return s;
}

/** Put a node into a new Group or HorizontalLayout in its place. */
export function wrap(state: DesignerState, id: NodeId, kind: 'group' | 'row', label?: Label): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || isColumn(s, id)) return state;
  const list = childList(s, e.parent) as LayoutItem[];
  const node: ContainerNode = { id: newId(s), kind, children: [e.node as LayoutItem] };
  if (kind === 'group') node.label = label ?? { 'zh-CN': '分组', en: 'Group' };
  list.splice(e.index, 1, node);
  s.lastAdded = node.id;
  return s;
}

function setIn(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (!isObj(cur[k])) {
      if (value === undefined) return;
      cur[k] = {};
    }
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** Set (or with `undefined` remove) a keyword of a field's property schema, e.g.
 * `['maxLength']`, `['x-label', 'en']`, `['x-ref', 'form']`. Label objects left empty
 * (`x-help`) are removed. */
export function setProp(state: DesignerState, id: NodeId, path: string[], value: unknown): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || e.node.kind !== 'field' || path.length === 0) return state;
  const schema = e.node.schema as Record<string, unknown>;
  setIn(schema, path, value);
  if (path[0] === 'x-help' && isObj(schema['x-help'])) {
    const help = schema['x-help'];
    for (const [k, v] of Object.entries(help)) if (v === '') delete help[k];
    if (Object.keys(help).length === 0) delete schema['x-help'];
  }
  return s;
}

/** Set a label text (`x-label` of a field, `label` of a group). */
export function setLabel(state: DesignerState, id: NodeId, locale: string, text: string): DesignerState {
  const e = findNode(state, id);
  if (!e) return state;
  if (e.node.kind === 'field') return setProp(state, id, ['x-label', locale], text);
  const s = clone(state);
  const n = findNode(s, id)!.node as ContainerNode;
  n.label = { ...(n.label ?? {}), [locale]: text };
  return s;
}

export function setFormLabel(state: DesignerState, locale: string, text: string): DesignerState {
  const s = clone(state);
  s.label = { ...s.label, [locale]: text };
  return s;
}

function renameVars(logic: unknown, from: string, to: string): unknown {
  if (Array.isArray(logic)) return logic.map((x) => renameVars(x, from, to));
  if (!isObj(logic)) return logic;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(logic)) {
    if (k === 'var') {
      const rename = (x: unknown) =>
        x === from ? to : typeof x === 'string' && x.startsWith(`${from}.`) ? to + x.slice(from.length) : x;
      out[k] = Array.isArray(v) ? [rename(v[0]), ...v.slice(1)] : rename(v);
    } else out[k] = renameVars(v, from, to);
  }
  return out;
}

/** Change a field's key, updating everything that names it (required, required-when,
 * layout rules, formulas, indexes). Invalid keys are stored as typed (see `lint`). */
export function renameField(state: DesignerState, id: NodeId, key: string): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || e.node.kind !== 'field') return state;
  const old = e.node.key;
  if (old === key) return state;
  e.node.key = key;
  const parent = e.parent === ROOT ? null : findNode(s, e.parent)!.node;
  if (parent?.kind === 'field') {
    const items = parent.schema.items as JsonSchema | undefined;
    if (Array.isArray(items?.required)) items.required = (items.required as string[]).map((k) => (k === old ? key : k));
    return s;
  }
  const r = (k: string) => (k === old ? key : k);
  s.order = s.order.map(r);
  s.required = s.required.map(r);
  s.requiredWhen = s.requiredWhen.map((w) => ({ ...w, when: r(w.when), fields: w.fields.map(r) }));
  if (Array.isArray(s.defExtra.indexes)) s.defExtra.indexes = (s.defExtra.indexes as string[][]).map((ix) => ix.map(r));
  for (const n of allNodes(s)) {
    if (n.node.rule) n.node.rule = { ...n.node.rule, condition: renameVars(n.node.rule.condition, old, key) };
  }
  for (const f of rootFields(s)) if ('x-formula' in f.schema) f.schema['x-formula'] = renameVars(f.schema['x-formula'], old, key);
  return s;
}

export function isRequired(s: DesignerState, id: NodeId): boolean {
  const e = findNode(s, id);
  if (!e || e.node.kind !== 'field') return false;
  if (e.parent === ROOT || findNode(s, e.parent)?.node.kind !== 'field') return s.required.includes(e.node.key);
  const table = findNode(s, e.parent)!.node as FieldNode;
  return ((table.schema.items?.required as string[] | undefined) ?? []).includes(e.node.key);
}

export function setRequired(state: DesignerState, id: NodeId, on: boolean): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || e.node.kind !== 'field') return state;
  const parent = e.parent === ROOT ? null : findNode(s, e.parent)!.node;
  if (parent?.kind === 'field') {
    setColumnRequired(parent, e.node.key, on);
    return s;
  }
  const key = e.node.key;
  const has = s.required.includes(key);
  if (on && !has) s.required.push(key);
  if (!on && has) s.required = s.required.filter((k) => k !== key);
  return s;
}

export interface OptionItem {
  value: string;
  label: Label;
}

export function optionsOfField(schema: JsonSchema): OptionItem[] {
  const src = typeOf(schema) === 'multi_select' ? (schema.items as JsonSchema | undefined) : schema;
  const values = ((src?.enum ?? []) as unknown[]).map(String);
  const labels = (schema['x-options'] ?? {}) as Record<string, Label>;
  return values.map((v) => ({ value: v, label: { ...(labels[v] ?? {}) } }));
}

/** Set the options of a select / multi-select (enum + x-options). The default is dropped
 * when its value is no longer an option. */
export function setOptions(state: DesignerState, id: NodeId, options: OptionItem[]): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || e.node.kind !== 'field') return state;
  const schema = e.node.schema;
  const values = options.map((o) => o.value);
  if (typeOf(schema) === 'multi_select') {
    schema.items = { ...(isObj(schema.items) ? schema.items : { type: 'string' }), enum: values };
    if (Array.isArray(schema.default)) {
      const d = (schema.default as string[]).filter((v) => values.includes(v));
      if (d.length > 0) schema.default = d;
      else delete schema.default;
    }
  } else {
    schema.enum = values;
    if ('default' in schema && !values.includes(schema.default as string)) delete schema.default;
  }
  schema['x-options'] = Object.fromEntries(options.map((o) => [o.value, { ...o.label }]));
  return s;
}

// ---------------------------------------------------------------------------------------
// Show/hide rules (JSON Logic on layout elements)

export type RuleOp = 'eq' | 'ne' | 'empty' | 'not_empty' | 'in';
export const RULE_OPS: RuleOp[] = ['eq', 'ne', 'empty', 'not_empty', 'in'];

export interface Condition {
  field: string;
  op: RuleOp;
  /** For `in`: a list. Unused for empty / not_empty. */
  value?: unknown;
}

/** JSON Logic of one condition. "Empty" is JSON Logic falsiness (missing, null, "", []). */
export function conditionLogic(c: Condition): unknown {
  const v = { var: c.field };
  switch (c.op) {
    case 'eq':
      return { '==': [v, c.value ?? null] };
    case 'ne':
      return { '!=': [v, c.value ?? null] };
    case 'empty':
      return { '!': v };
    case 'not_empty':
      return { '!!': v };
    case 'in':
      return { in: [v, Array.isArray(c.value) ? c.value : [c.value]] };
  }
}

function parseOne(logic: unknown): Condition | null {
  if (!isObj(logic)) return null;
  const ops = Object.keys(logic);
  if (ops.length !== 1) return null;
  const op = ops[0]!;
  const arg = logic[op];
  const varName = (x: unknown): string | null =>
    isObj(x) && Object.keys(x).length === 1 && typeof x.var === 'string' ? x.var : null;
  if (op === '!' || op === '!!') {
    const a = Array.isArray(arg) && arg.length === 1 ? arg[0] : arg;
    const f = varName(a);
    return f ? { field: f, op: op === '!' ? 'empty' : 'not_empty' } : null;
  }
  if ((op === '==' || op === '!=' || op === '===' || op === '!==' || op === 'in') && Array.isArray(arg) && arg.length === 2) {
    const f = varName(arg[0]);
    if (!f) return null;
    if (op === 'in') return Array.isArray(arg[1]) ? { field: f, op: 'in', value: arg[1] } : null;
    return { field: f, op: op.startsWith('=') ? 'eq' : 'ne', value: arg[1] };
  }
  return null;
}

/** The conditions of a rule's JSON Logic (one, or several joined with `and`), or null
 * when it is not of the shapes the visual editor writes. */
export function parseCondition(logic: unknown): Condition[] | null {
  if (isObj(logic) && Object.keys(logic).length === 1 && Array.isArray(logic.and)) {
    const parts = (logic.and as unknown[]).map(parseOne);
    return parts.every((p) => p !== null) ? (parts as Condition[]) : null;
  }
  const one = parseOne(logic);
  return one ? [one] : null;
}

export function conditionsLogic(cs: Condition[]): unknown {
  if (cs.length === 1) return conditionLogic(cs[0]!);
  return { and: cs.map(conditionLogic) };
}

export function setRule(state: DesignerState, id: NodeId, rule: LayoutRule | undefined): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || isColumn(s, id)) return state;
  if (rule) e.node.rule = rule;
  else delete e.node.rule;
  return s;
}

/** Add a condition to an element's show/hide rule (joined with `and` to the ones it has),
 * setting the rule's effect. A rule not built by the editor is replaced. */
export function addRuleCondition(state: DesignerState, id: NodeId, effect: 'SHOW' | 'HIDE', c: Condition): DesignerState {
  const e = findNode(state, id);
  if (!e) return state;
  const existing = e.node.rule ? parseCondition(e.node.rule.condition) : null;
  const conds = [...(existing ?? []), c];
  return setRule(state, id, { effect, condition: conditionsLogic(conds) });
}

export function removeRuleCondition(state: DesignerState, id: NodeId, index: number): DesignerState {
  const e = findNode(state, id);
  if (!e?.node.rule) return state;
  const conds = parseCondition(e.node.rule.condition);
  if (!conds) return setRule(state, id, undefined);
  conds.splice(index, 1);
  return setRule(state, id, conds.length > 0 ? { effect: e.node.rule.effect, condition: conditionsLogic(conds) } : undefined);
}

export function setRuleEffect(state: DesignerState, id: NodeId, effect: 'SHOW' | 'HIDE'): DesignerState {
  const e = findNode(state, id);
  if (!e?.node.rule) return state;
  return setRule(state, id, { ...e.node.rule, effect });
}

// Required-when rules

export function addRequiredWhen(state: DesignerState, r: Omit<RequiredWhen, 'id'>): DesignerState {
  const s = clone(state);
  let n = 1;
  while (s.requiredWhen.some((x) => x.id === `r${n}`)) n++;
  s.requiredWhen.push({ ...clone(r), id: `r${n}` });
  return s;
}

export function removeRequiredWhen(state: DesignerState, id: string): DesignerState {
  const s = clone(state);
  s.requiredWhen = s.requiredWhen.filter((r) => r.id !== id);
  return s;
}

/** Turn a value typed in a text box into the JSON value a field holds. */
export function coerceValue(schema: JsonSchema | undefined, text: string): unknown {
  const t = schema ? typeOf(schema) : 'text';
  const numeric = ['number', 'integer', 'money', 'reference'].includes(t) || (t === 'computed' && ['number', 'integer'].includes(schema?.type));
  if (numeric && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (t === 'boolean' || (t === 'computed' && schema?.type === 'boolean')) {
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Undo / redo

export interface History {
  past: DesignerState[];
  present: DesignerState;
  future: DesignerState[];
  /** Tag of the last commit: commits with the same tag (typing in one input) merge. */
  tag?: string;
}

const HISTORY_LIMIT = 200;

export function history(present: DesignerState): History {
  return { past: [], present, future: [] };
}

/** Record a new state. Consecutive commits with the same non-empty `tag` become one step. */
export function commit(h: History, next: DesignerState, tag?: string): History {
  if (next === h.present) return h;
  if (tag && h.tag === tag && h.past.length > 0) return { past: h.past, present: next, future: [], tag };
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [], tag };
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const next = h.future[0];
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}

// ---------------------------------------------------------------------------------------
// Client-side checks (the server stays the authority) and error pointers

export interface Problem {
  pointer: string;
  rule: string;
  message: string;
}

function ptr(...parts: string[]): string {
  return parts.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Problems the designer can see before asking the server, with the server's pointers. */
export function lint(s: DesignerState): Problem[] {
  const out: Problem[] = [];
  if (!KEY_RE.test(s.key)) out.push({ pointer: '/key', rule: 'key', message: 'key' });
  const checkField = (f: FieldNode, base: string) => {
    if (!KEY_RE.test(f.key)) out.push({ pointer: base, rule: 'key', message: 'key' });
    const label = f.schema['x-label'] as Label | undefined;
    if (!label || !Object.values(label).some((v) => v.trim() !== ''))
      out.push({ pointer: `${base}/x-label`, rule: 'label', message: 'label' });
    const sc = f.schema;
    for (const [lo, hi] of [
      ['minLength', 'maxLength'],
      ['minimum', 'maximum'],
      ['minItems', 'maxItems'],
    ] as const) {
      if (typeof sc[lo] === 'number' && typeof sc[hi] === 'number' && sc[lo] > sc[hi])
        out.push({ pointer: `${base}/${lo}`, rule: 'range', message: 'range' });
    }
    const t = typeOf(sc);
    if ((t === 'select' || t === 'multi_select') && optionsOfField(sc).length === 0)
      out.push({ pointer: `${base}/enum`, rule: 'options', message: 'options' });
    if (t === 'select' || t === 'multi_select') {
      const opts = optionsOfField(sc);
      if (new Set(opts.map((o) => o.value)).size !== opts.length || opts.some((o) => o.value === ''))
        out.push({ pointer: `${base}/enum`, rule: 'options', message: 'options' });
    }
    if (t === 'reference' && !KEY_RE.test(String(sc['x-ref']?.form ?? '')))
      out.push({ pointer: `${base}/x-ref/form`, rule: 'x-ref', message: 'x-ref' });
  };
  const seen = new Set<string>();
  for (const f of rootFields(s)) {
    const base = ptr('schema', 'properties', f.key);
    if (seen.has(f.key)) out.push({ pointer: base, rule: 'duplicate', message: 'duplicate' });
    seen.add(f.key);
    checkField(f, base);
    const colSeen = new Set<string>();
    for (const c of f.columns ?? []) {
      const cb = `${base}/items${ptr('properties', c.key)}`;
      if (colSeen.has(c.key)) out.push({ pointer: cb, rule: 'duplicate', message: 'duplicate' });
      colSeen.add(c.key);
      checkField(c, cb);
    }
  }
  return out;
}

function decodeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The node a server error pointer concerns: a field (`/schema/properties/<key>/…`, a
 * sub-table column `…/<table>/items/properties/<col>/…`) or a layout element
 * (`/layout/elements/<i>/…`). Null for the rest. */
export function nodeOfPointer(s: DesignerState, pointer: string): NodeId | null {
  const parts = pointer.split('/').slice(1).map(decodeToken);
  if (parts[0] === 'schema' && parts[1] === 'properties' && parts[2] !== undefined) {
    const f = fieldByKey(s, parts[2]);
    if (!f) return null;
    if (parts[3] === 'items' && parts[4] === 'properties' && parts[5] !== undefined) {
      const c = f.columns?.find((x) => x.key === parts[5]);
      if (c) return c.id;
    }
    return f.id;
  }
  if (parts[0] === 'layout') {
    let list: LayoutItem[] = s.root;
    let found: LayoutItem | null = null;
    for (let i = 1; i + 1 < parts.length + 1; i += 2) {
      if (parts[i] !== 'elements') break;
      const n: LayoutItem | undefined = list[Number(parts[i + 1])];
      if (!n) break;
      found = n;
      if (n.kind === 'field') break;
      list = n.children;
    }
    return found?.id ?? null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Differences between two definitions (versions)

export type LayoutChange =
  | { kind: 'groupAdded'; label: Label }
  | { kind: 'groupRemoved'; label: Label }
  | { kind: 'groupRenamed'; from: Label; to: Label }
  | { kind: 'moved'; key: string; from: Label[]; to: Label[] }
  | { kind: 'reordered'; container: Label[] }
  | { kind: 'ruleAdded' | 'ruleRemoved' | 'ruleChanged'; target: string };

export interface DefinitionDiff {
  added: string[];
  removed: string[];
  changed: { key: string; attributes: string[] }[];
  layout: LayoutChange[];
  /** Form-level changes: label, required-when rules, other schema keywords, indexes. */
  form: string[];
}

function fieldAttrDiff(a: JsonSchema, b: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (jsonEqual(a[k], b[k])) continue;
    if (k === 'items' && a['x-type'] === 'sub_table' && b['x-type'] === 'sub_table') {
      const ai = (a.items ?? {}) as JsonSchema;
      const bi = (b.items ?? {}) as JsonSchema;
      const ap = (ai.properties ?? {}) as Record<string, JsonSchema>;
      const bp = (bi.properties ?? {}) as Record<string, JsonSchema>;
      for (const c of Object.keys(bp)) if (!(c in ap)) out.push(`${prefix}column +${c}`);
      for (const c of Object.keys(ap)) if (!(c in bp)) out.push(`${prefix}column -${c}`);
      for (const c of Object.keys(ap))
        if (c in bp) out.push(...fieldAttrDiff(ap[c]!, bp[c]!, `${prefix}${c}.`));
      const ar = ((ai.required ?? []) as string[]).slice().sort();
      const br = ((bi.required ?? []) as string[]).slice().sort();
      for (const c of new Set([...ar, ...br])) if (ar.includes(c) !== br.includes(c)) out.push(`${prefix}${c}.required`);
      continue;
    }
    if (k === 'items' && (a['x-type'] === 'multi_select' || b['x-type'] === 'multi_select')) {
      out.push(`${prefix}enum`);
      continue;
    }
    out.push(prefix + k);
  }
  return out;
}

interface Placed {
  path: Label[];
  index: number;
  containerKey: string;
}

function placements(layout: LayoutNode | undefined) {
  const fields = new Map<string, Placed>();
  const groups: Label[] = [];
  const rules = new Map<string, string>();
  const order = new Map<string, string[]>();
  const visit = (n: LayoutNode, path: Label[], containerKey: string, index: number) => {
    if (n.type === 'Control') {
      const m = /^#\/properties\/(.+)$/.exec(n.scope ?? '');
      if (!m) return;
      fields.set(m[1]!, { path, index, containerKey });
      const list = order.get(containerKey) ?? [];
      list.push(m[1]!);
      order.set(containerKey, list);
      if (n.rule) rules.set(m[1]!, JSON.stringify(n.rule));
      return;
    }
    let nextPath = path;
    let key = containerKey;
    if (n.type === 'Group') {
      const label = n.label ?? {};
      groups.push(label);
      nextPath = [...path, label];
      key = `${containerKey}>${JSON.stringify(label)}`;
      if (n.rule) rules.set(`group:${pickAny(label)}`, JSON.stringify(n.rule));
    }
    (n.elements ?? []).forEach((c, i) => visit(c, nextPath, key, i));
  };
  if (layout) visit(layout, [], 'root', 0);
  return { fields, groups, rules, order };
}

function pickAny(l: Label): string {
  return l['zh-CN'] ?? l.en ?? Object.values(l)[0] ?? '';
}

/** What changed from definition `a` to `b`. */
export function diffDefinitions(a: FormDefinition, b: FormDefinition): DefinitionDiff {
  const ap = (a.schema?.properties ?? {}) as Record<string, JsonSchema>;
  const bp = (b.schema?.properties ?? {}) as Record<string, JsonSchema>;
  const areq = new Set<string>((a.schema?.required as string[] | undefined) ?? []);
  const breq = new Set<string>((b.schema?.required as string[] | undefined) ?? []);
  const diff: DefinitionDiff = { added: [], removed: [], changed: [], layout: [], form: [] };
  for (const k of Object.keys(bp)) if (!(k in ap)) diff.added.push(k);
  for (const k of Object.keys(ap)) if (!(k in bp)) diff.removed.push(k);
  for (const k of Object.keys(ap)) {
    if (!(k in bp)) continue;
    const attrs = fieldAttrDiff(ap[k]!, bp[k]!);
    if (areq.has(k) !== breq.has(k)) attrs.push('required');
    if (attrs.length > 0) diff.changed.push({ key: k, attributes: attrs });
  }
  if (!jsonEqual(a.label, b.label)) diff.form.push('label');
  if (!jsonEqual(a.description, b.description)) diff.form.push('description');
  if (!jsonEqual(a.indexes, b.indexes)) diff.form.push('indexes');
  const sa = fromDefinition(a);
  const sb = fromDefinition(b);
  const rwKey = (r: RequiredWhen) => JSON.stringify([r.fields, r.when, r.value]);
  const ra = new Set(sa.requiredWhen.map(rwKey));
  const rb = new Set(sb.requiredWhen.map(rwKey));
  if (ra.size !== rb.size || [...ra].some((x) => !rb.has(x))) diff.form.push('requiredWhen');
  const extraKeys = new Set([...Object.keys(sa.schemaExtra), ...Object.keys(sb.schemaExtra)]);
  for (const k of extraKeys) if (!jsonEqual(sa.schemaExtra[k], sb.schemaExtra[k])) diff.form.push(`schema.${k}`);

  const la = placements(a.layout);
  const lb = placements(b.layout);
  const ga = la.groups.map((g) => JSON.stringify(g));
  const gb = lb.groups.map((g) => JSON.stringify(g));
  const addedG = lb.groups.filter((g) => !ga.includes(JSON.stringify(g)));
  const removedG = la.groups.filter((g) => !gb.includes(JSON.stringify(g)));
  // A group removed and one added at the same position: a rename.
  if (addedG.length === removedG.length && la.groups.length === lb.groups.length) {
    addedG.forEach((g, i) => diff.layout.push({ kind: 'groupRenamed', from: removedG[i]!, to: g }));
  } else {
    for (const g of addedG) diff.layout.push({ kind: 'groupAdded', label: g });
    for (const g of removedG) diff.layout.push({ kind: 'groupRemoved', label: g });
  }
  const renamed = new Map<string, string>();
  if (addedG.length === removedG.length && la.groups.length === lb.groups.length)
    removedG.forEach((g, i) => renamed.set(JSON.stringify(g), JSON.stringify(addedG[i])));
  const norm = (path: Label[]) => path.map((l) => renamed.get(JSON.stringify(l)) ?? JSON.stringify(l)).join('>');
  for (const [k, pb] of lb.fields) {
    const pa = la.fields.get(k);
    if (pa && norm(pa.path) !== pb.path.map((l) => JSON.stringify(l)).join('>'))
      diff.layout.push({ kind: 'moved', key: k, from: pa.path, to: pb.path });
  }
  for (const [ck, listB] of lb.order) {
    const listA = la.order.get(ck);
    if (!listA) continue;
    const common = listB.filter((k) => listA.includes(k));
    const commonA = listA.filter((k) => listB.includes(k));
    if (!jsonEqual(common, commonA)) diff.layout.push({ kind: 'reordered', container: lb.fields.get(listB[0]!)!.path });
  }
  for (const [k, r] of lb.rules) {
    const before = la.rules.get(k);
    if (before === undefined) diff.layout.push({ kind: 'ruleAdded', target: k });
    else if (before !== r) diff.layout.push({ kind: 'ruleChanged', target: k });
  }
  for (const k of la.rules.keys()) if (!lb.rules.has(k)) diff.layout.push({ kind: 'ruleRemoved', target: k });
  return diff;
}

export function diffIsEmpty(d: DefinitionDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.layout.length + d.form.length === 0;
}
