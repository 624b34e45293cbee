// The designer state of a form definition ({key, label, schema, layout}) and back. Parts
// the designer does not edit are kept and written back unchanged. Pure.
import type { FormDefinition, JsonSchema, LayoutNode } from '../api/types.ts';
import { FILE_DEF, typeOf } from './fieldTypes.ts';
import {
  allNodes,
  clone,
  emptyState,
  isObj,
  newId,
  rootFields,
  without,
  type ContainerNode,
  type DesignerState,
  type FieldNode,
  type LayoutItem,
  type RequiredWhen,
} from './model.ts';

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
