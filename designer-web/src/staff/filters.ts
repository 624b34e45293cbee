// The list filter builder's conditions and their JSON Logic (the server's strict subset,
// docs/api.md "The filter language"). Pure, unit-tested.
import type { JsonSchema } from '../api/types.ts';
import { fieldType, isNumeric, isScalar, type Field } from '../forms/model.ts';

export type Op = 'eq' | 'ne' | 'contains' | 'starts' | 'gt' | 'gte' | 'lt' | 'lte' | 'empty' | 'notEmpty';

export interface Condition {
  field: string;
  op: Op;
  value?: unknown;
}

/** Operators offered for a field, by its type. */
export function opsFor(prop: JsonSchema): Op[] {
  const t = fieldType(prop);
  if (t === 'multi_select') return ['contains', 'empty', 'notEmpty'];
  if (!isScalar(t)) return ['empty', 'notEmpty'];
  if (t === 'boolean' || t === 'select' || t === 'member' || t === 'department' || t === 'reference')
    return ['eq', 'ne', 'empty', 'notEmpty'];
  if (isNumeric(t, prop) || t === 'date' || t === 'datetime') return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'notEmpty'];
  return ['contains', 'eq', 'ne', 'starts', 'empty', 'notEmpty'];
}

export function needsValue(op: Op): boolean {
  return op !== 'empty' && op !== 'notEmpty';
}

const CMP: Partial<Record<Op, string>> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** One condition as JSON Logic, or null when it is incomplete. */
export function conditionLogic(c: Condition): unknown {
  const v = { var: c.field };
  if (c.op === 'empty') return { '==': [v, null] };
  if (c.op === 'notEmpty') return { '!=': [v, null] };
  if (c.value === undefined || c.value === null || c.value === '') return null;
  if (c.op === 'contains') return { in: [c.value, v] };
  if (c.op === 'starts') return { starts_with: [v, c.value] };
  const op = CMP[c.op];
  return op ? { [op]: [v, c.value] } : null;
}

/** All complete conditions joined with `and`; undefined when there are none. */
export function filterLogic(conds: Condition[]): unknown {
  const parts = conds.map(conditionLogic).filter((p) => p !== null);
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { and: parts };
}

/** Fields a list can sort by. */
export function sortable(f: Field): boolean {
  return isScalar(f.type) && f.type !== 'long_text';
}

/** The keys of a `sort` parameter (`-reported_at,priority`), in order. */
export function sortKeys(sort: string | undefined): { key: string; desc: boolean }[] {
  return (sort ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== '-' && s !== '+')
    .map((s) => (s.startsWith('-') ? { key: s.slice(1), desc: true } : { key: s.replace(/^\+/, ''), desc: false }));
}

/** Default columns: up to `n` fields that read well in a row. */
export function defaultColumns(fields: Field[], n = 6): string[] {
  const good = fields.filter((f) => isScalar(f.type) && f.type !== 'long_text');
  return (good.length ? good : fields).slice(0, n).map((f) => f.key);
}

/** The `?filter=` of a list URL (JSON Logic, e.g. a report's drill-down); undefined when
 * absent or not JSON. */
export function parseUrlFilter(param: string | null): unknown {
  if (!param) return undefined;
  try {
    const v = JSON.parse(param) as unknown;
    return v !== null && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Both filters (either may be undefined). */
export function andFilters(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { and: [a, b] };
}
