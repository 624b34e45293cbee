// Changing the type of an existing field. The field keeps its key, labels, help text and
// required flag, and every setting the new type still understands (text → long text keeps
// the maximum length, select → multi-select the options, number → integer the minimum and
// maximum); the rest is dropped and named, so the designer can tell the user. Whether
// stored records still fit is the server's question when the draft is published. Pure.
import type { JsonSchema } from '../api/types.ts';
import type { FieldType } from '../forms/model.ts';
import { typeOf, typeTemplate } from './fieldTypes.ts';
import { clone, findNode, isColumn, isObj, type DesignerState, type NodeId } from './model.ts';

/** What a changed field lost. Keywords are named as in the schema, except: `options`
 * (enum and `x-options`), `columns` (a sub-table's columns), `required` (server-assigned
 * types fill themselves in) and `indexes` (composite indexes naming a field that can no
 * longer be indexed). */
export type DroppedSetting = string;

export interface FieldSchemaChange {
  schema: JsonSchema;
  dropped: DroppedSetting[];
}

/** Settings every field has, whatever its type. */
const ANY_TYPE = ['x-label', 'x-help', 'x-confidential', 'title', 'description', '$comment'];

const TEXT_TYPES: FieldType[] = ['text', 'long_text', 'email', 'cn_mobile', 'uscc'];
const NUMBER_TYPES: FieldType[] = ['number', 'integer', 'money'];
const OPTION_TYPES: FieldType[] = ['select', 'multi_select'];

/** Type-specific settings and the types that understand them. */
const SETTINGS: Record<string, readonly FieldType[]> = {
  minLength: TEXT_TYPES,
  maxLength: TEXT_TYPES,
  pattern: TEXT_TYPES,
  minimum: NUMBER_TYPES,
  maximum: NUMBER_TYPES,
  exclusiveMinimum: NUMBER_TYPES,
  exclusiveMaximum: NUMBER_TYPES,
  multipleOf: NUMBER_TYPES,
  minItems: ['multi_select', 'attachment', 'sub_table'],
  maxItems: ['multi_select', 'attachment', 'sub_table'],
  'x-currency': ['money'],
  'x-ref': ['reference'],
  'x-serial': ['serial'],
  'x-formula': ['computed'],
  'x-accept': ['attachment', 'signature'],
  'x-max-size': ['attachment', 'signature'],
};

/** Parts of a type's schema that are its shape, not settings: they come from the new
 * type's template and are never reported as dropped. */
const STRUCTURE = ['type', 'x-type', 'readOnly', 'uniqueItems', 'additionalProperties', 'properties', 'required', '$ref', 'items'];

/** Keywords of the options, and of the values that can be indexed (text, number, yes/no). */
const OPTION_KEYS = ['enum', 'x-options'];
const INDEX_KEYS = ['x-indexed', 'x-unique'];

function indexable(schema: JsonSchema): boolean {
  return ['string', 'number', 'integer', 'boolean'].includes(schema.type as string);
}

/** The option values of a select (`enum`) or multi-select (`items.enum`). */
function optionValues(schema: JsonSchema): unknown[] | undefined {
  const src = typeOf(schema) === 'multi_select' ? (isObj(schema.items) ? schema.items : undefined) : schema;
  return Array.isArray(src?.enum) ? [...(src.enum as unknown[])] : undefined;
}

const VALUE_SHAPES: Partial<Record<FieldType, (v: unknown) => boolean>> = {
  text: (v) => typeof v === 'string',
  long_text: (v) => typeof v === 'string',
  member: (v) => typeof v === 'string',
  department: (v) => typeof v === 'string',
  email: (v) => typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v),
  cn_mobile: (v) => typeof v === 'string' && /^1[3-9]\d{9}$/.test(v),
  uscc: (v) => typeof v === 'string' && /^[0-9A-Z]{18}$/.test(v),
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  datetime: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  money: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
};

/** The default carried over to the new schema, or undefined when it does not fit. */
function convertDefault(value: unknown, from: FieldType, to: FieldType, next: JsonSchema): unknown {
  const options = optionValues(next) ?? [];
  if (to === 'select') {
    const v = from === 'multi_select' && Array.isArray(value) && value.length === 1 ? value[0] : value;
    return options.includes(v) ? v : undefined;
  }
  if (to === 'multi_select') {
    const v = Array.isArray(value) ? value : [value];
    return v.length > 0 && v.every((x) => options.includes(x)) ? v : undefined;
  }
  return VALUE_SHAPES[to]?.(value) ? value : undefined;
}

/** The property schema of a field turned into type `to`, and the settings it lost. */
export function convertFieldSchema(schema: JsonSchema, to: FieldType): FieldSchemaChange {
  const from = typeOf(schema);
  if (from === to) return { schema: clone(schema), dropped: [] };
  const template = typeTemplate(to);
  const next: JsonSchema = { type: template.type, 'x-type': to };
  if (template.type === undefined) delete next.type;
  // A computed field keeps the JSON type of what it replaces when it can hold it.
  if (to === 'computed' && ['number', 'integer', 'string', 'boolean'].includes(schema.type as string)) next.type = schema.type;
  const dropped = new Set<DroppedSetting>();
  const keeps = (k: string) => ANY_TYPE.includes(k) || (SETTINGS[k]?.includes(to) ?? false);

  for (const [k, v] of Object.entries(schema)) {
    if (keeps(k)) next[k] = clone(v);
    else if (OPTION_KEYS.includes(k)) {
      if (!OPTION_TYPES.includes(to)) dropped.add('options');
    } else if (INDEX_KEYS.includes(k)) {
      if (indexable(next)) next[k] = v;
      else dropped.add(k);
    } else if (k !== 'default' && !STRUCTURE.includes(k)) dropped.add(k);
  }
  // The new type's own shape and defaults where the old schema said nothing.
  for (const [k, v] of Object.entries(template)) if (!(k in next) && k !== 'type') next[k] = v;

  if (OPTION_TYPES.includes(to) && OPTION_TYPES.includes(from)) {
    const values = optionValues(schema);
    if (values) {
      if (to === 'multi_select') next.items = { ...(isObj(template.items) ? template.items : {}), enum: values };
      else next.enum = values;
    }
    // The old labels go with the old values (none rather than the template's).
    if (isObj(schema['x-options'])) next['x-options'] = clone(schema['x-options']);
    else delete next['x-options'];
  }
  if (from === 'multi_select' && !OPTION_TYPES.includes(to) && optionValues(schema)) dropped.add('options');

  if ('default' in schema) {
    const d = convertDefault(schema.default, from, to, next);
    if (d === undefined) dropped.add('default');
    else next.default = clone(d);
  }

  // type, x-type and x-label first, as a new field has them.
  const ordered: JsonSchema = {};
  for (const k of ['type', 'x-type', 'x-label']) if (k in next) ordered[k] = next[k];
  for (const [k, v] of Object.entries(next)) if (!(k in ordered)) ordered[k] = v;
  return { schema: ordered, dropped: [...dropped] };
}

export interface FieldTypeChange {
  state: DesignerState;
  dropped: DroppedSetting[];
}

/** Change the type of field `id` (a root field or a sub-table column). A column cannot
 * become a sub-table; the state comes back unchanged then, and for an unknown id. */
export function fieldTypeChange(state: DesignerState, id: NodeId, to: FieldType): FieldTypeChange {
  const e = findNode(state, id);
  if (!e || e.node.kind !== 'field' || typeOf(e.node.schema) === to) return { state, dropped: [] };
  const column = isColumn(state, id);
  if (column && to === 'sub_table') return { state, dropped: [] };
  const s = clone(state);
  const node = findNode(s, id)!.node;
  if (node.kind !== 'field') return { state, dropped: [] };
  const change = convertFieldSchema(node.schema, to);
  const dropped = new Set(change.dropped);
  node.schema = change.schema;
  if (to === 'sub_table') node.columns = [];
  else if (node.columns) {
    if (node.columns.length > 0) dropped.add('columns');
    delete node.columns;
  }
  if (!column) {
    // Serial numbers and computed values are filled in by the server.
    if ((to === 'serial' || to === 'computed') && s.required.includes(node.key)) {
      s.required = s.required.filter((k) => k !== node.key);
      dropped.add('required');
    }
    const indexes = s.defExtra.indexes;
    if (!indexable(node.schema) && Array.isArray(indexes) && (indexes as unknown[]).some((ix) => Array.isArray(ix) && ix.includes(node.key))) {
      const kept = (indexes as unknown[]).filter((ix) => !(Array.isArray(ix) && ix.includes(node.key)));
      if (kept.length > 0) s.defExtra.indexes = kept;
      else delete s.defExtra.indexes;
      dropped.add('indexes');
    }
  } else if (to === 'serial' || to === 'computed') {
    const table = findNode(s, findNode(s, id)!.parent)!.node;
    const items = table.kind === 'field' && isObj(table.schema.items) ? (table.schema.items as JsonSchema) : undefined;
    if (Array.isArray(items?.required) && (items.required as string[]).includes(node.key)) {
      const rest = (items.required as string[]).filter((k) => k !== node.key);
      if (rest.length > 0) items.required = rest;
      else delete items.required;
      dropped.add('required');
    }
  }
  return { state: s, dropped: [...dropped] };
}

/** `fieldTypeChange` for `apply`: the new state only. */
export function setFieldType(state: DesignerState, id: NodeId, to: FieldType): DesignerState {
  return fieldTypeChange(state, id, to).state;
}
