// Editing the designer state: adding, moving, removing and wrapping elements, a field's
// properties, labels, key, required flag and options. Each takes a state and returns a
// new one (unchanged, the same object, when the edit is refused). Pure.
import type { JsonSchema } from '../api/types.ts';
import type { FieldType } from '../forms/model.ts';
import { TYPE_LABELS, typeOf, typeTemplate, type OptionItem } from './fieldTypes.ts';
import {
  KEY_RE,
  ROOT,
  allNodes,
  childList,
  clone,
  columnKeys,
  findNode,
  isColumn,
  isObj,
  isSubTableTarget,
  newId,
  rootFields,
  subtreeIds,
  uniqueKey,
  type ContainerNode,
  type DesignerState,
  type FieldNode,
  type Label,
  type LayoutItem,
  type NodeId,
} from './model.ts';

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
