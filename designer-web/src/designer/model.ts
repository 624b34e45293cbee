// The form designer's model: a tree of layout nodes (fields, groups, columns) plus the
// schema-level parts a designer edits (required, required-when rules), and the queries
// on that tree. No React here: everything is unit-tested.
//
// The rest of the model, by concern: field types and their templates (fieldTypes.ts),
// changing a field's type (typeChange.ts), the conversion to and from a form definition
// (definition.ts), editing operations (operations.ts), show/hide and required-when rules
// (rules.ts), undo/redo (history.ts), client-side checks and error pointers (checks.ts),
// differences between versions (diff.ts).
//
// Every operation takes a state and returns a new one (the input is never changed).
// Unknown parts of a loaded definition (schema keywords, `$defs`, layout keys, property
// keywords the designer does not edit) are kept and written back unchanged.
import type { JsonSchema, LayoutRule } from '../api/types.ts';
import { typeOf } from './fieldTypes.ts';

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
// Helpers (shared by the model's modules)

export const clone = <T>(v: T): T => structuredClone(v);

export function isObj(v: unknown): v is Record<string, unknown> {
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

export function without(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

export function newId(s: DesignerState): NodeId {
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
export function childList(s: DesignerState, target: NodeId): (LayoutItem | FieldNode)[] | null {
  if (target === ROOT) return s.root;
  const e = findNode(s, target);
  if (!e) return null;
  if (e.node.kind === 'field') return typeOf(e.node.schema) === 'sub_table' ? (e.node.columns ??= []) : null;
  return e.node.children;
}

export function isSubTableTarget(s: DesignerState, target: NodeId): boolean {
  if (target === ROOT) return false;
  const e = findNode(s, target);
  return !!e && e.node.kind === 'field';
}

export function subtreeIds(n: LayoutItem | FieldNode): Set<NodeId> {
  const ids = new Set<NodeId>([n.id]);
  const visit = (x: LayoutItem | FieldNode) => {
    ids.add(x.id);
    if (x.kind === 'field') x.columns?.forEach(visit);
    else x.children.forEach(visit);
  };
  visit(n);
  return ids;
}

export function uniqueKey(base: string, taken: Set<string>): string {
  const b = base.slice(0, 56);
  if (!taken.has(b) && KEY_RE.test(b)) return b;
  for (let i = 1; ; i++) {
    const k = `${b}_${i}`;
    if (!taken.has(k)) return k;
  }
}

export function columnKeys(table: FieldNode): Set<string> {
  return new Set((table.columns ?? []).map((c) => c.key));
}

// ---------------------------------------------------------------------------------------
// Creating

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
