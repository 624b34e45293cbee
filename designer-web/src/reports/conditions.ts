// Conditions as rows — field, operator, value — and JSON Logic, both ways: the report
// filter's rows and a measure's `where` (comparisons joined by "and" or by "or"). Only
// the subset of docs/reports.md that rows can say is read into rows (comparisons with a
// value or a relative date, `in` with a list, `== null`, `!= null`, `!` of one of those);
// anything else is left to be shown and kept as JSON. Pure.
import type { FieldTypes } from './draft.ts';

export type FilterOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'empty' | 'notEmpty';
export const FILTER_OPS: FilterOp[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'empty', 'notEmpty'];

export interface FilterRow {
  field: string;
  op: FilterOp;
  /** A value, a list (`in`) or a relative date's JSON Logic (`{"var": "today"}`, …). */
  value?: unknown;
}

export type Period = 'week' | 'month' | 'quarter' | 'year';
export const PERIODS: Period[] = ['week', 'month', 'quarter', 'year'];

/** A relative date, resolved by the server at each run: today, today ± n days
 * (`add_days`), or the first day of this week (ISO, Monday), month, quarter or year
 * (`start_of`). */
export type RelativeDate = { kind: 'today' } | { kind: 'days'; days: number } | { kind: 'startOf'; period: Period };

const TODAY = { var: 'today' };

function isToday(v: unknown): boolean {
  return varName(v) === 'today';
}

/** A comparison's value as a relative date, or null when it is not one of those shapes. */
export function parseRelativeDate(v: unknown): RelativeDate | null {
  if (isToday(v)) return { kind: 'today' };
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length !== 1) return null;
  const o = v as Record<string, unknown>;
  const args = o.add_days ?? o.start_of;
  if (!Array.isArray(args) || args.length !== 2) return null;
  if ('add_days' in o) return isToday(args[0]) && Number.isInteger(args[1]) ? { kind: 'days', days: args[1] as number } : null;
  return PERIODS.includes(args[0] as Period) && isToday(args[1]) ? { kind: 'startOf', period: args[0] as Period } : null;
}

/** A relative date as the JSON Logic a comparison's value holds. */
export function relativeDateLogic(r: RelativeDate): unknown {
  if (r.kind === 'today') return { ...TODAY };
  if (r.kind === 'days') return { add_days: [{ ...TODAY }, r.days] };
  return { start_of: [r.period, { ...TODAY }] };
}

/** What a date condition compares with, as the value picker offers it: a date picked, or
 * a relative date. */
export type DateChoice = 'date' | 'today' | 'days' | `startOf.${Period}`;
export const DATE_CHOICES: DateChoice[] = ['date', 'today', 'days', ...PERIODS.map((p) => `startOf.${p}` as const)];

export function dateChoice(value: unknown): DateChoice {
  const r = parseRelativeDate(value);
  if (!r) return 'date';
  return r.kind === 'startOf' ? `startOf.${r.period}` : r.kind;
}

/** The value of a date condition when its choice changes: none yet for a date to pick,
 * else the relative date (today ± n days keeps its n, starting at 7). */
export function dateChoiceValue(choice: DateChoice, value: unknown): unknown {
  if (choice === 'date') return undefined;
  if (choice === 'today') return relativeDateLogic({ kind: 'today' });
  if (choice === 'days') {
    const r = parseRelativeDate(value);
    return relativeDateLogic({ kind: 'days', days: r?.kind === 'days' ? r.days : 7 });
  }
  return relativeDateLogic({ kind: 'startOf', period: choice.slice('startOf.'.length) as Period });
}

const CMP: Record<string, FilterOp> = { '==': 'eq', '!=': 'ne', '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };
const OPS: Partial<Record<FilterOp, string>> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function varName(v: unknown): string | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  return Object.keys(o).length === 1 && typeof o.var === 'string' ? o.var : null;
}

function scalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** A condition as a row, or null when it is not one of the simple shapes. */
export function parseCondition(logic: unknown): FilterRow | null {
  if (!logic || typeof logic !== 'object' || Array.isArray(logic)) return null;
  const entries = Object.entries(logic as Record<string, unknown>);
  if (entries.length !== 1) return null;
  const [op, args] = entries[0]!;
  if (op === '!') {
    // `!` of a simple condition is its opposite (a missing value fails `==` and passes `!=`).
    const inner = parseCondition(Array.isArray(args) && args.length === 1 ? args[0] : args);
    const opposite: Partial<Record<FilterOp, FilterOp>> = { eq: 'ne', ne: 'eq', empty: 'notEmpty', notEmpty: 'empty' };
    const flipped = inner ? opposite[inner.op] : undefined;
    return inner && flipped ? { ...inner, op: flipped } : null;
  }
  if (!Array.isArray(args) || args.length !== 2) return null;
  const field = varName(args[0]);
  if (!field) return null;
  const value = args[1];
  if (op === 'in') return Array.isArray(value) && value.every(scalar) ? { field, op: 'in', value } : null;
  const rowOp = CMP[op];
  if (!rowOp) return null;
  if (value === null && (rowOp === 'eq' || rowOp === 'ne')) return { field, op: rowOp === 'eq' ? 'empty' : 'notEmpty' };
  return scalar(value) || parseRelativeDate(value) ? { field, op: rowOp, value } : null;
}

export function needsValue(op: FilterOp): boolean {
  return op !== 'empty' && op !== 'notEmpty';
}

/** The values of an `in` row: a list, or text split at commas (numbers for number fields). */
export function inValues(value: unknown, numeric = false): (string | number | boolean)[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[,,]/) : value === undefined || value === null ? [] : [value];
  return list
    .map((v) => (typeof v === 'string' ? v.trim() : v))
    .filter((v) => v !== '' && scalar(v))
    .map((v) => (numeric && typeof v === 'string' && Number.isFinite(Number(v)) ? Number(v) : v)) as (string | number | boolean)[];
}

/** A row as JSON Logic, or null when it is incomplete. */
export function compileRow(row: FilterRow, numeric = false): unknown {
  if (!row.field) return null;
  const v = { var: row.field };
  if (row.op === 'empty') return { '==': [v, null] };
  if (row.op === 'notEmpty') return { '!=': [v, null] };
  if (row.op === 'in') {
    const values = inValues(row.value, numeric);
    return values.length ? { in: [v, values] } : null;
  }
  if (row.value === undefined || row.value === null || row.value === '') return null;
  return { [OPS[row.op]!]: [v, row.value] };
}

// ---------------------------------------------------------------------------------------
// A measure's `where`

export type WhereJoin = 'and' | 'or';
export const WHERE_JOINS: WhereJoin[] = ['and', 'or'];

/** A `where` as the visual editor shows it: rows that all hold (`and`) or any holds (`or`). */
export interface WhereRows {
  join: WhereJoin;
  rows: FilterRow[];
}

/** A `where` as rows (none: no rows), or null when the rows cannot say it — nested groups,
 * `hours_between`, a field against a field, an empty group (an empty `or` holds for no
 * row, no rows would mean every row). */
export function parseWhere(logic: unknown): WhereRows | null {
  if (logic === undefined || logic === null) return { join: 'and', rows: [] };
  if (typeof logic !== 'object' || Array.isArray(logic)) return null;
  const entries = Object.entries(logic as Record<string, unknown>);
  if (entries.length === 1 && (entries[0]![0] === 'and' || entries[0]![0] === 'or')) {
    const [join, parts] = entries[0]! as [WhereJoin, unknown];
    if (!Array.isArray(parts) || parts.length === 0) return null;
    const rows = parts.map(parseCondition);
    return rows.every((r) => r !== null) ? { join, rows: rows as FilterRow[] } : null;
  }
  const row = parseCondition(logic);
  return row ? { join: 'and', rows: [row] } : null;
}

/** The `where` of the complete rows: one condition bare, several joined, none undefined. */
export function compileWhere(w: WhereRows, types?: FieldTypes): unknown {
  const parts = w.rows.map((r) => compileRow(r, types?.(r.field)?.numeric)).filter((p) => p !== null);
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { [w.join]: parts };
}

/** JSON text of a `where` being typed: `undefined` for an empty text, `null` when it is not
 * JSON Logic (not JSON, or not an object). */
export function parseWhereText(text: string): { logic: unknown } | null {
  if (!text.trim()) return { logic: undefined };
  try {
    const logic = JSON.parse(text) as unknown;
    return logic && typeof logic === 'object' && !Array.isArray(logic) ? { logic } : null;
  } catch {
    return null;
  }
}

/** The field paths JSON Logic names (`{"var": path}`; `today` is a date, not a field),
 * e.g. to load the forms they reach. */
export function logicVars(logic: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(logic)) for (const x of logic) logicVars(x, out);
  else if (logic && typeof logic === 'object') {
    for (const [k, v] of Object.entries(logic as Record<string, unknown>)) {
      if (k === 'var' && typeof v === 'string') {
        if (v && v !== 'today') out.add(v);
      } else logicVars(v, out);
    }
  }
  return out;
}
