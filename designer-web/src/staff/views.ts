// Saved views of a record list (`…/forms/{form}/views`): a view's spec from the list's
// state and back, whether the list still shows the chosen view, who may change a view, and
// the server's errors sorted by the part of the save dialog they concern. Pure, unit-tested.
import type { ErrorDetail } from '../api/client.ts';
import type { Field } from '../forms/model.ts';
import { andFilters, conditionLogic, filterLogic, opsFor, type Condition, type Op } from './filters.ts';
import { filterFields, isSystemColumn } from './systemColumns.ts';

/** What a view stores: the list API's own parameters. */
export interface ViewSpec {
  /** JSON Logic, exactly the list's `filter` parameter. */
  filter?: unknown;
  /** The list's `sort` parameter, e.g. `-reported_at,priority`. */
  sort?: string;
  columns?: string[];
  page_size?: number;
}

export interface SavedView {
  id: number;
  name: string;
  /** Username of the creator. */
  owner: string;
  shared: boolean;
  spec: ViewSpec;
  created_at: string;
  updated_at: string;
}

/** The body of a create (POST) or update (PUT). */
export interface ViewBody {
  name: string;
  shared?: boolean;
  spec: ViewSpec;
}

export const PAGE_SIZES = [20, 50, 100];
export const DEFAULT_PAGE_SIZE = 20;
/** The list API's largest `limit`. */
const MAX_PAGE_SIZE = 1000;

/** The parts of a list a view sets. */
export interface ListState {
  /** The part of the filter the builder cannot show as conditions (the list keeps it in
   *  `?filter=` and shows it as a tag); undefined when there is none. */
  extra: unknown;
  /** The builder's applied conditions. */
  conditions: Condition[];
  sort: string | undefined;
  /** undefined: the list's own columns (remembered per form, else the defaults). */
  columns: string[] | undefined;
  pageSize: number;
}

/** The list with no view chosen. */
export const ALL_RECORDS: ListState = { extra: undefined, conditions: [], sort: undefined, columns: undefined, pageSize: DEFAULT_PAGE_SIZE };

/** The spec that saves this state: the same filter and sort the list sends to the server. */
export function specFromList(s: ListState): ViewSpec {
  const spec: ViewSpec = {};
  const filter = andFilters(s.extra, filterLogic(s.conditions));
  if (filter !== undefined) spec.filter = filter;
  if (s.sort) spec.sort = s.sort;
  if (s.columns) spec.columns = [...s.columns];
  spec.page_size = s.pageSize;
  return spec;
}

/** The list state a view sets: its filter split into builder conditions and the rest,
 *  columns the caller cannot see (no longer in `fields`) left out; system columns
 *  (`_created_at`, …) are kept, every record has them. */
export function listFromSpec(spec: ViewSpec, fields: Field[]): ListState {
  const known = new Set(fields.map((f) => f.key));
  const columns = Array.isArray(spec.columns)
    ? spec.columns.filter((k): k is string => typeof k === 'string' && (known.has(k) || isSystemColumn(k)))
    : [];
  const sort = typeof spec.sort === 'string' ? spec.sort.trim() : '';
  return {
    ...splitFilter(spec.filter, fields),
    sort: sort || undefined,
    columns: columns.length ? columns : undefined,
    pageSize: pageSizeOf(spec.page_size),
  };
}

/** Does the list show something other than the view? Both sides are compared after the
 *  same normalisation, so a filter written by hand or by an older UI still matches when it
 *  means the same conditions. A view without columns matches any columns. */
export function differsFromView(current: ListState, spec: ViewSpec, fields: Field[]): boolean {
  const shown = specFromList(listFromSpec(specFromList(current), fields));
  const saved = specFromList(listFromSpec(spec, fields));
  if (saved.columns === undefined) delete shown.columns;
  return !sameJson(shown, saved);
}

/** The owner changes their view; administrators also change shared views. */
export function mayChangeView(view: Pick<SavedView, 'owner' | 'shared'>, username: string | undefined, isAdmin: boolean): boolean {
  return (username !== undefined && view.owner === username) || (view.shared && isAdmin);
}

/** Views in the server's order (by name, code point order). */
export function sortViews(views: SavedView[]): SavedView[] {
  return [...views].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
}

/** A page size the list can use (1–1000), else the default. */
export function pageSizeOf(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE ? n : DEFAULT_PAGE_SIZE;
}

/** The filter as builder conditions (the top-level `and` parts the builder writes, on the
 *  form's `fields` or the system columns) and the rest, ANDed, which the builder cannot
 *  show. */
export function splitFilter(filter: unknown, fields: Field[]): { conditions: Condition[]; extra: unknown } {
  const byKey = new Map(filterFields(fields).map((f) => [f.key, f]));
  const conditions: Condition[] = [];
  const rest: unknown[] = [];
  for (const part of filter === undefined || filter === null ? [] : andParts(filter)) {
    const c = conditionFromLogic(part, byKey);
    if (c) conditions.push(c);
    else rest.push(part);
  }
  return { conditions, extra: rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : { and: rest } };
}

function andParts(f: unknown): unknown[] {
  if (isObject(f) && Object.keys(f).length === 1 && Array.isArray(f.and)) return f.and.flatMap(andParts);
  return [f];
}

const FIELD_FIRST: Record<string, Op> = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte', starts_with: 'starts' };

/** The builder condition that writes exactly this JSON Logic, or null. */
export function conditionFromLogic(part: unknown, byKey: Map<string, Field>): Condition | null {
  if (!isObject(part)) return null;
  const entries = Object.entries(part);
  if (entries.length !== 1) return null;
  const [op, args] = entries[0]!;
  if (!Array.isArray(args) || args.length !== 2) return null;
  const [a, b] = args as [unknown, unknown];
  let c: Condition | null = null;
  if ((op === '==' || op === '!=') && varName(a)) {
    const field = varName(a)!;
    if (b === null) c = { field, op: op === '==' ? 'empty' : 'notEmpty' };
    else c = { field, op: op === '==' ? 'eq' : 'ne', value: b };
  } else if (op in FIELD_FIRST && varName(a)) {
    c = { field: varName(a)!, op: FIELD_FIRST[op]!, value: b };
  } else if (op === 'in' && varName(b)) {
    c = { field: varName(b)!, op: 'contains', value: a };
  }
  if (!c) return null;
  const field = byKey.get(c.field);
  if (!field || !opsFor(field.schema).includes(c.op)) return null;
  if ('value' in c && !['string', 'number', 'boolean'].includes(typeof c.value)) return null;
  return sameJson(conditionLogic(c), part) ? c : null;
}

function varName(v: unknown): string | null {
  return isObject(v) && Object.keys(v).length === 1 && typeof v.var === 'string' ? v.var : null;
}

/** Which part of the save dialog each server error concerns. */
export type ViewPart = 'name' | 'shared' | 'filter' | 'sort' | 'columns' | 'pageSize' | 'other';

export interface ViewErrors {
  messages: Partial<Record<ViewPart, string[]>>;
  /** Indexes of `spec.columns` the server named. */
  badColumns: number[];
}

/** Sort an error's details by dialog part (`/name`, `/shared`, `/spec/filter…`,
 *  `/spec/sort`, `/spec/columns/N`, `/spec/page_size`); an error without details is one
 *  message under `other`. */
export function viewErrors(error: { message: string; details: ErrorDetail[] }): ViewErrors {
  const out: ViewErrors = { messages: {}, badColumns: [] };
  const add = (part: ViewPart, m: string) => (out.messages[part] ??= []).push(m);
  if (error.details.length === 0) add('other', error.message);
  for (const d of error.details) {
    const p = d.pointer;
    const under = (prefix: string) => p === prefix || p.startsWith(`${prefix}/`);
    if (under('/name')) add('name', d.message);
    else if (under('/shared')) add('shared', d.message);
    else if (under('/spec/filter')) add('filter', d.message);
    else if (under('/spec/sort')) add('sort', d.message);
    else if (under('/spec/page_size')) add('pageSize', d.message);
    else if (under('/spec/columns')) {
      add('columns', d.message);
      const n = /^\/spec\/columns\/(\d+)/.exec(p);
      if (n) out.badColumns.push(Number(n[1]));
    } else add('other', d.message);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
}
