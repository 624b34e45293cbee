// The report designer's model: a definition being edited plus its filter as simple rows
// (conditions.ts) and, while one is edited, a measure's `where` as rows or JSON text and
// a formula as its infix text (formula.ts). Fields are added from the palette to
// dimensions, measures or filters, moved between them, removed; validate.ts checks the
// draft before it goes to the server. Pure.
import type { JsonSchema, Label } from '../api/types.ts';
import { fieldsOf, isNumeric, isScalar, type FieldType } from '../forms/model.ts';
import { compileRow, parseCondition, type FilterRow, type WhereRows } from './conditions.ts';
import { dimKey } from './format.ts';
import { renameInExpr, renameInFormula } from './formula.ts';
import { VALUE_AGGS, type Agg, type Dimension, type Measure, type ReportDefinition } from './types.ts';

export type Zone = 'dimensions' | 'measures' | 'filters';
export const ZONES: Zone[] = ['dimensions', 'measures', 'filters'];

/** A field offered by the palette: a field of the source form or, through reference
 * fields, of the forms they point at (`device.product.model`). */
export interface PaletteField {
  path: string;
  type: FieldType;
  numeric: boolean;
  label?: Label;
  /** For reference fields: the form they point at. */
  ref?: string;
  options?: Record<string, Label>;
}
export type FieldTypes = (path: string) => PaletteField | undefined;

/** How a measure's `where` is being edited: the visual editor's rows (incomplete ones
 * too) or the JSON text typed. `where` always holds what they say (the complete rows, the
 * last text that was JSON); without an edit, `where` is shown as loaded and kept as it is. */
export type WhereEdit = { rows: WhereRows } | { json: string };

/** A measure in the designer: a definition's measure, how its `where` is being edited
 * and, for a formula, the text typed (`expr` holds the last text that read as a formula;
 * without an edit `expr` is shown as loaded and kept as it is). */
export interface DraftMeasure extends Measure {
  whereEdit?: WhereEdit;
  formulaText?: string;
}

export type DraftDefinition = Omit<ReportDefinition, 'measures'> & { measures: DraftMeasure[] };

export interface ReportDraft {
  def: DraftDefinition;
  filters: FilterRow[];
  /** The part of the filter the rows cannot express, kept as it is (ANDed). */
  rawFilter?: unknown;
  /** The loaded filter and its rows (and raw part): saved back as it was while they are unchanged. */
  loaded?: { filter: unknown; rows: string };
}

export interface Issue {
  pointer: string;
  code: string;
  vars?: Record<string, string | number>;
}

export const COLUMN_KEY_RE = /^[a-z][a-z0-9_]*$/;

export function isTemporal(t: FieldType | undefined): boolean {
  return t === 'date' || t === 'datetime';
}

/** The palette entries of a form schema; `prefix` for the fields of a referenced form. */
export function paletteFields(schema: JsonSchema | undefined, prefix = ''): PaletteField[] {
  // (Long texts are not cache columns: the server refuses to report on them.)
  return fieldsOf(schema)
    .filter((f) => isScalar(f.type) && f.type !== 'long_text')
    .map((f) => {
      const ref = f.type === 'reference' ? (f.schema['x-ref']?.form as string | undefined) : undefined;
      return {
        path: prefix ? `${prefix}.${f.key}` : f.key,
        type: f.type,
        numeric: f.type !== 'reference' && isNumeric(f.type, f.schema),
        ...(f.schema['x-label'] ? { label: f.schema['x-label'] as Label } : {}),
        ...(ref ? { ref } : {}),
        ...(f.schema['x-options'] ? { options: f.schema['x-options'] as Record<string, Label> } : {}),
      };
    });
}

/** The sub-tables of a form schema: a report may count their rows instead of the records. */
export function subTables(schema: JsonSchema | undefined): { key: string; label?: Label }[] {
  return fieldsOf(schema)
    .filter((f) => f.type === 'sub_table')
    .map((f) => ({ key: f.key, ...(f.schema['x-label'] ? { label: f.schema['x-label'] as Label } : {}) }));
}

/** The palette of a report over the rows of `table`: the record's fields, and the rows'
 * own columns as `table.column` (the server's paths). */
export function rowPaletteFields(schema: JsonSchema | undefined, table: string): PaletteField[] {
  const items = (schema?.properties as Record<string, JsonSchema> | undefined)?.[table]?.items as JsonSchema | undefined;
  return [...paletteFields(schema), ...paletteFields(items, table)];
}

export function fromDefinition(def: ReportDefinition): ReportDraft {
  const { filter, ...rest } = def;
  const base: ReportDraft = { def: { ...rest, dimensions: rest.dimensions ?? [], measures: rest.measures ?? [] }, filters: [] };
  if (filter === undefined || filter === null) return base;
  const and = (filter as { and?: unknown }).and;
  const parts = Array.isArray(and) && Object.keys(filter as object).length === 1 ? and : [filter];
  const raw: unknown[] = [];
  for (const p of parts) {
    const row = parseCondition(p);
    if (row) base.filters.push(row);
    else raw.push(p);
  }
  if (raw.length) base.rawFilter = raw.length === 1 ? raw[0] : { and: raw };
  base.loaded = { filter, rows: JSON.stringify([base.filters, base.rawFilter ?? null]) };
  return base;
}

/** The definition to save: filter rows compiled and ANDed with the kept raw filter. */
export function toDefinition(d: ReportDraft, types?: FieldTypes): ReportDefinition {
  const parts: unknown[] = d.filters.map((r) => compileRow(r, types?.(r.field)?.numeric)).filter((p) => p !== null);
  if (d.rawFilter !== undefined) parts.push(d.rawFilter);
  const unchanged = d.loaded !== undefined && d.loaded.rows === JSON.stringify([d.filters, d.rawFilter ?? null]);
  const { label, form, rows, dimensions, measures, sort, limit, others, chart, ...rest } = d.def;
  delete rest.filter;
  // In the documented order, so saved JSON reads like docs/reports.md.
  return {
    ...(label ? { label } : {}),
    form,
    ...(rows ? { rows } : {}),
    ...(unchanged ? { filter: d.loaded!.filter } : parts.length === 1 ? { filter: parts[0] } : parts.length > 1 ? { filter: { and: parts } } : {}),
    dimensions,
    measures: measures.map(definitionMeasure),
    ...(sort?.length ? { sort } : {}),
    ...(limit !== undefined && limit !== null ? { limit, ...(others !== undefined ? { others } : {}) } : {}),
    ...(chart ? { chart } : {}),
    ...rest,
  };
}

/** A designer's measure as the definition has it. */
function definitionMeasure(m: DraftMeasure): Measure {
  const out = { ...m };
  delete out.whereEdit;
  delete out.formulaText;
  return out;
}

export function emptyDraft(form = '', label?: Label): ReportDraft {
  return {
    def: { ...(label ? { label } : {}), form, dimensions: [], measures: [], chart: { kind: 'bar' } },
    filters: [],
  };
}

// ---------------------------------------------------------------------------------------
// Palette → zones

/** `base`, or `base_2`, `base_3`… whichever is not taken. */
export function uniqueKey(base: string, taken: Iterable<string>): string {
  const set = new Set(taken);
  if (!set.has(base)) return base;
  for (let n = 2; ; n++) if (!set.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** A column key from a field path: `device.product.model` → `device_product_model`. */
export function slug(path: string): string {
  const s = path.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(s) ? s : `f_${s}`;
}

export function columnKeys(def: ReportDefinition): string[] {
  return [...def.dimensions.map((d) => dimKey(d, def.dimensions)), ...def.measures.map((m) => m.key)];
}

function insertAt<T>(list: T[], item: T, index?: number): T[] {
  const i = index === undefined ? list.length : Math.max(0, Math.min(index, list.length));
  return [...list.slice(0, i), item, ...list.slice(i)];
}

export function newDimension(def: ReportDefinition, f: Pick<PaletteField, 'path' | 'type'>): Dimension {
  const d: Dimension = { field: f.path, ...(isTemporal(f.type) ? { bucket: 'month' as const } : {}) };
  // The same field with the same bucket twice needs a key of its own.
  const all = [...def.dimensions, d];
  const clash = def.dimensions.some((x) => !x.key && dimKey(x, all) === dimKey(d, all));
  return clash ? { ...d, key: uniqueKey(slug(dimKey(d, all)), columnKeys(def)) } : d;
}

export function newMeasure(def: ReportDefinition, f: Pick<PaletteField, 'path' | 'numeric'> | null): Measure {
  const taken = columnKeys(def);
  if (!f) return { key: uniqueKey('count', taken), agg: 'count' };
  const agg = f.numeric ? 'sum' : 'count_distinct';
  return { key: uniqueKey(`${slug(f.path)}_${agg}`, taken), agg, field: f.path };
}

export function newFilter(f: Pick<PaletteField, 'path' | 'type' | 'numeric'>): FilterRow {
  return { field: f.path, op: f.numeric || isTemporal(f.type) ? 'gte' : 'eq' };
}

/** Add a field (or, for measures, `null`: a count of rows) to a zone at `index`. */
export function addToZone(d: ReportDraft, zone: Zone, f: PaletteField | null, index?: number): ReportDraft {
  if (zone === 'measures') return { ...d, def: { ...d.def, measures: insertAt(d.def.measures, newMeasure(d.def, f), index) } };
  if (!f) return d;
  if (zone === 'dimensions') return { ...d, def: { ...d.def, dimensions: insertAt(d.def.dimensions, newDimension(d.def, f), index) } };
  return { ...d, filters: insertAt(d.filters, newFilter(f), index) };
}

export function removeFromZone(d: ReportDraft, zone: Zone, index: number): ReportDraft {
  const drop = <T,>(l: T[]) => l.filter((_, i) => i !== index);
  if (zone === 'filters') return { ...d, filters: drop(d.filters) };
  return { ...d, def: { ...d.def, [zone]: drop(d.def[zone] as unknown[]) } };
}

/** The field an item of a zone is about (a count has none). */
export function itemField(d: ReportDraft, zone: Zone, index: number): string | null {
  if (zone === 'dimensions') {
    const dim = d.def.dimensions[index];
    return dim?.field ?? dim?.duration?.from ?? null;
  }
  if (zone === 'filters') return d.filters[index]?.field ?? null;
  const m = d.def.measures[index];
  return m?.field ?? m?.duration?.from ?? null;
}

function arrayMove<T>(list: T[], from: number, to: number): T[] {
  const out = [...list];
  const [x] = out.splice(from, 1);
  out.splice(Math.max(0, Math.min(to, out.length)), 0, x!);
  return out;
}

/** Move an item within its zone, or into another zone (it becomes a dimension, measure
 * or filter of the same field; a count without a field cannot leave the measures). */
export function moveItem(d: ReportDraft, from: { zone: Zone; index: number }, to: { zone: Zone; index: number }, types?: FieldTypes): ReportDraft {
  if (from.zone === to.zone) {
    if (from.index === to.index) return d;
    if (from.zone === 'filters') return { ...d, filters: arrayMove(d.filters, from.index, to.index) };
    return { ...d, def: { ...d.def, [from.zone]: arrayMove(d.def[from.zone] as unknown[], from.index, to.index) } };
  }
  const path = itemField(d, from.zone, from.index);
  if (!path) return d;
  const f: PaletteField = types?.(path) ?? { path, type: 'text', numeric: false };
  return addToZone(removeFromZone(d, from.zone, from.index), to.zone, f, to.index);
}

export function updateDimension(d: ReportDraft, index: number, patch: Partial<Dimension>): ReportDraft {
  const dimensions = d.def.dimensions.map((x, i) => (i === index ? dropUndefined({ ...x, ...patch }) : x));
  return { ...d, def: { ...d.def, dimensions } };
}

/** A dimension grouped by a field's values, or by the time between two date fields (a
 * duration needs a column key: one is made up if it has none). `fields`: the palette's,
 * whose first date fields a new duration measures between. */
export function setDimensionSource(d: ReportDraft, index: number, source: 'field' | 'duration', fields: PaletteField[]): ReportDraft {
  const dim = d.def.dimensions[index];
  if (!dim || (source === 'duration') === (dim.field === undefined && dim.duration !== undefined)) return d;
  const numberBucket = typeof dim.bucket === 'object' ? dim.bucket : undefined;
  if (source === 'field') {
    const field = dim.duration?.from ?? '';
    const f = fields.find((x) => x.path === field);
    return updateDimension(d, index, { field, duration: undefined, bucket: f && isTemporal(f.type) ? 'month' : undefined });
  }
  const dates = fields.filter((f) => isTemporal(f.type)).map((f) => f.path);
  const from = dim.field && dates.includes(dim.field) ? dim.field : (dates[0] ?? '');
  const to = dates.find((p) => p !== from) ?? '';
  const taken = columnKeys(d.def).filter((_, i) => i !== index);
  return updateDimension(d, index, {
    field: undefined,
    duration: { from, to, unit: 'days' },
    bucket: numberBucket,
    key: dim.key ?? uniqueKey('duration_days', taken),
  });
}

/** The patch of a measure given another aggregation: what the new one does not take is
 * dropped, what it needs is started (a percentile's 0.9, a ratio's first two measures of
 * `operands`, a formula's empty text). */
export function aggPatch(m: DraftMeasure, agg: Agg, operands: string[]): Partial<DraftMeasure> {
  const patch: Partial<DraftMeasure> = { agg };
  if (!VALUE_AGGS.includes(agg)) Object.assign(patch, { field: undefined, duration: undefined });
  patch.q = agg === 'percentile' ? (m.q ?? 0.9) : undefined;
  patch.of = agg === 'ratio' ? (m.of ?? [operands[0] ?? '', operands[1] ?? operands[0] ?? '']) : undefined;
  if (agg === 'formula') Object.assign(patch, { where: undefined, whereEdit: undefined, formulaText: m.agg === 'formula' ? m.formulaText : '' });
  else Object.assign(patch, { expr: undefined, formulaText: undefined });
  return patch;
}

/** The measures a ratio or formula at `index` may read: the plain ones, and ratios and
 * formulas listed before it. */
export function derivedOperands(measures: Measure[], index: number): string[] {
  const derived = (m: Measure) => m.agg === 'ratio' || m.agg === 'formula';
  return [...new Set(measures.filter((m, j) => j !== index && m.key && (j < index || !derived(m))).map((m) => m.key))];
}

/** Change a measure; a new key is carried into the sort and into the ratios and
 * formulas that name it. */
export function updateMeasure(d: ReportDraft, index: number, patch: Partial<DraftMeasure>): ReportDraft {
  const old = d.def.measures[index]?.key;
  const next = patch.key;
  const renamed = old !== undefined && next !== undefined && next !== old;
  const rename = (k: string) => (renamed && k === old ? next : k);
  const measures = d.def.measures.map((x, i) => {
    if (i === index) return dropUndefined({ ...x, ...patch });
    if (!renamed) return x;
    if (x.of) return { ...x, of: [rename(x.of[0]), rename(x.of[1])] as [string, string] };
    if (x.agg === 'formula') {
      const formulaText = x.formulaText === undefined ? undefined : renameInFormula(x.formulaText, old, next);
      return dropUndefined({ ...x, expr: renameInExpr(x.expr, old, next), formulaText });
    }
    return x;
  });
  const sort = d.def.sort?.map((s) => ({ ...s, by: rename(s.by) }));
  return { ...d, def: { ...d.def, measures, ...(sort ? { sort } : {}) } };
}

export function updateFilter(d: ReportDraft, index: number, patch: Partial<FilterRow>): ReportDraft {
  return { ...d, filters: d.filters.map((x, i) => (i === index ? { ...x, ...patch } : x)) };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
