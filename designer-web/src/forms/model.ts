// Reading form definitions: fields, their platform types, the layout tree, rules and
// how values are shown. Pure functions, shared by the staff app and the designer preview.
import jsonLogic from 'json-logic-js';

/** The server's date operators (server/formwork/src/service/prepare.rs), so rules evaluate
 * the same here: `add_days [date, n]` → `YYYY-MM-DD`, `days_between [a, b]` → whole days. */
function dateArg(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const t = Date.UTC(Number(v.slice(0, 4)), Number(v.slice(5, 7)) - 1, Number(v.slice(8, 10)));
  return Number.isNaN(t) ? null : t;
}
const DAY = 86_400_000;
export function addDays(date: unknown, n: unknown): string | null {
  const t = dateArg(date);
  if (t === null || typeof n !== 'number' || !Number.isFinite(n)) return null;
  return new Date(t + Math.trunc(n) * DAY).toISOString().slice(0, 10);
}
export function daysBetween(a: unknown, b: unknown): number | null {
  const x = dateArg(a);
  const y = dateArg(b);
  return x === null || y === null ? null : Math.round((y - x) / DAY);
}
jsonLogic.add_operation('add_days', addDays);
jsonLogic.add_operation('days_between', daysBetween);
import type { FormDefinition, JsonSchema, LayoutNode, LayoutRule } from '../api/types.ts';

export const FIELD_TYPES = [
  'text',
  'long_text',
  'number',
  'integer',
  'money',
  'date',
  'datetime',
  'select',
  'multi_select',
  'boolean',
  'email',
  'cn_mobile',
  'uscc',
  'region',
  'member',
  'department',
  'reference',
  'sub_table',
  'attachment',
  'signature',
  'serial',
  'computed',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface Field {
  key: string;
  type: FieldType;
  schema: JsonSchema;
}

export function fieldType(prop: JsonSchema | undefined): FieldType {
  const t = prop?.['x-type'];
  return (FIELD_TYPES as readonly string[]).includes(t) ? (t as FieldType) : 'text';
}

/** The fields of an object schema (root or a sub-table's items), in schema order. */
export function fieldsOf(schema: JsonSchema | undefined): Field[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(props).map(([key, s]) => ({ key, type: fieldType(s), schema: s }));
}

export function fieldMap(schema: JsonSchema | undefined): Map<string, Field> {
  return new Map(fieldsOf(schema).map((f) => [f.key, f]));
}

/** `#/properties/name` → `name`. */
export function scopeKey(scope: string | undefined): string | null {
  if (!scope) return null;
  const m = /^#\/properties\/([^/]+)$/.exec(scope);
  return m?.[1] ?? null;
}

/** The layout, or one control per field when the definition has none. Controls whose
 * field is not in the (possibly masked) schema are dropped; fields missing from the
 * layout are appended so nothing readable is ever hidden by a stale layout. */
export function layoutOf(def: Pick<FormDefinition, 'schema' | 'layout'>): LayoutNode {
  const fields = fieldMap(def.schema);
  const seen = new Set<string>();
  const prune = (n: LayoutNode): LayoutNode | null => {
    if (n.type === 'Control') {
      const k = scopeKey(n.scope);
      if (!k || !fields.has(k)) return null;
      seen.add(k);
      return n;
    }
    const elements = (n.elements ?? []).map(prune).filter((e): e is LayoutNode => e !== null);
    if (n.type !== 'VerticalLayout' && elements.length === 0) return null;
    return { ...n, elements };
  };
  const root: LayoutNode = (def.layout && prune(def.layout)) || { type: 'VerticalLayout', elements: [] };
  const missing = [...fields.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) {
    root.elements = [
      ...(root.elements ?? []),
      ...missing.map((k) => ({ type: 'Control' as const, scope: `#/properties/${k}` })),
    ];
  }
  return root;
}

/** Does an element with this rule show for this record? */
export function ruleShows(rule: LayoutRule | undefined, data: Record<string, unknown>): boolean {
  if (!rule) return true;
  let holds = false;
  try {
    holds = Boolean(jsonLogic.apply(rule.condition as jsonLogic.RulesLogic, data));
  } catch {
    holds = false;
  }
  return rule.effect === 'SHOW' ? holds : !holds;
}

/** Fields required for this record: `required` plus the `then.required` of every
 * `if/then` (at the root or in `allOf`) whose `if` the record meets. */
export function requiredFields(schema: JsonSchema, data: Record<string, unknown>): Set<string> {
  const out = new Set<string>((schema.required as string[] | undefined) ?? []);
  const conds: JsonSchema[] = [];
  if (schema.if) conds.push(schema);
  for (const s of (schema.allOf as JsonSchema[] | undefined) ?? []) if (s.if) conds.push(s);
  for (const c of conds) {
    const branch = ifHolds(c.if as JsonSchema, data) ? c.then : c.else;
    for (const k of (branch?.required as string[] | undefined) ?? []) out.add(k);
  }
  return out;
}

/** A small evaluator for the `if` shapes the designer writes: `properties` with
 * `const` / `enum` and `required`. Anything else counts as not holding. */
export function ifHolds(cond: JsonSchema | undefined, data: Record<string, unknown>): boolean {
  if (!cond) return false;
  for (const k of (cond.required as string[] | undefined) ?? []) {
    if (data[k] === undefined || data[k] === null) return false;
  }
  for (const [k, s] of Object.entries((cond.properties ?? {}) as Record<string, JsonSchema>)) {
    const v = data[k];
    if (v === undefined) continue;
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v)) return false;
    if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) return false;
  }
  return true;
}

/** Initial data of a new record: each field's `default`. */
export function defaults(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(schema)) if (f.schema.default !== undefined) out[f.key] = f.schema.default;
  return out;
}

/** Labels of a select's options. */
export function optionsOf(prop: JsonSchema): { value: string; label: Record<string, string> }[] {
  const src = (prop['x-type'] === 'multi_select' ? prop.items : prop) as JsonSchema | undefined;
  const values = (src?.enum ?? prop.enum ?? []) as string[];
  const labels = (prop['x-options'] ?? {}) as Record<string, Record<string, string>>;
  return values.map((v) => ({ value: v, label: labels[v] ?? { en: v, 'zh-CN': v } }));
}

/** Field types a list can filter and sort by (scalar values). */
export function isScalar(t: FieldType): boolean {
  return !['region', 'sub_table', 'attachment', 'signature', 'multi_select'].includes(t);
}

export function isNumeric(t: FieldType, prop?: JsonSchema): boolean {
  if (t === 'computed') return prop?.type === 'number' || prop?.type === 'integer';
  return t === 'number' || t === 'integer' || t === 'money' || t === 'reference';
}

/** Server-assigned fields a client never sends. */
export function isServerAssigned(t: FieldType): boolean {
  return t === 'serial' || t === 'computed';
}
