// Dashboards' shared choice filters (`type: "select"`): the fields such a filter can apply
// to — those whose report column is text, as the server has them: selects, members,
// departments, texts, e-mails, mobiles, USCCs, serials, text formulas and the parts of a
// region (`region.province`), also through a reference (`customer.owner`) — the field a
// mapped path names, and where the filter's choices come from. Pure.
import type { Department, JsonSchema, Label } from '../api/types.ts';
import type { DirectoryUser } from '../forms/directory.ts';
import { fieldType, fieldsOf, type FieldType } from '../forms/model.ts';
import { pickLabel, type Locale } from '../i18n/core.ts';
import type { DashboardDefinition } from './types.ts';

/** Form schemas by form key (as api.ts `schemasFor` loads them). */
export type Schemas = Record<string, JsonSchema | null | undefined>;

/** Field types whose report column is text. */
export const TEXT_FIELD_TYPES: readonly FieldType[] = ['select', 'member', 'department', 'text', 'email', 'cn_mobile', 'uscc', 'serial'];

/** Names of a region's parts. */
const REGION_PARTS: Record<string, Label> = {
  province: { 'zh-CN': '省', en: 'province' },
  city: { 'zh-CN': '市', en: 'city' },
  district: { 'zh-CN': '区县', en: 'district' },
};

/** The field a path names: its form, type and schema. */
export interface ResolvedField {
  form: string;
  type: FieldType;
  schema: JsonSchema;
}

/** Does the report have this field as a text column? (A field without an `x-type`, like a
 * region's part, or a formula: when its JSON type is string.) */
export function isTextValued(f: Pick<ResolvedField, 'type' | 'schema'>): boolean {
  const x = f.schema['x-type'];
  if (x === undefined || x === 'computed') return f.schema.type === 'string';
  return TEXT_FIELD_TYPES.includes(f.type);
}

function hasParts(prop: JsonSchema): boolean {
  return fieldType(prop) === 'region' || (prop['x-type'] === undefined && prop.type === 'object');
}

/** The field a path of `root` names: reference fields lead to the forms they point at
 * (`customer.owner`), a region's part is its own field (`region.province`). Undefined when
 * a schema on the way is not loaded or has no such field. */
export function resolveField(schemas: Schemas, root: string, path: string): ResolvedField | undefined {
  const segs = path.split('.');
  let form = root;
  for (let i = 0; i < segs.length; i++) {
    const prop = schemas[form]?.properties?.[segs[i]!] as JsonSchema | undefined;
    if (!prop) return undefined;
    if (i === segs.length - 1) return { form, type: fieldType(prop), schema: prop };
    if (hasParts(prop)) {
      const part = prop.properties?.[segs[i + 1]!] as JsonSchema | undefined;
      return part && i === segs.length - 2 ? { form, type: fieldType(part), schema: part } : undefined;
    }
    const next = prop['x-ref']?.form as string | undefined;
    if (fieldType(prop) !== 'reference' || !next) return undefined;
    form = next;
  }
  return undefined;
}

/** A field a choice filter can map to, as the builder lists it. */
export interface ChoiceField {
  path: string;
  type: FieldType;
  label: Label;
}

/** Labels joined per language (`Customer / Sales owner`); a missing one is its key. */
function joinLabels(parts: [Label | undefined, string][], sep: string): Label {
  const out: Label = {};
  for (const lang of ['zh-CN', 'en'] as const) out[lang] = parts.map(([l, key]) => pickLabel(l, lang, key)).join(sep);
  return out;
}

/** The text-valued fields of `root` a choice filter can map to: its own (a region's parts
 * each), then those of the forms its reference fields point at (when loaded). */
export function choiceFields(schemas: Schemas, root: string): ChoiceField[] {
  const out: ChoiceField[] = [];
  const add = (form: string, prefix: string, via?: [Label | undefined, string]) => {
    for (const f of fieldsOf(schemas[form] ?? undefined)) {
      const own: [Label | undefined, string] = [f.schema['x-label'] as Label | undefined, f.key];
      if (hasParts(f.schema)) {
        for (const [part, ps] of Object.entries((f.schema.properties ?? {}) as Record<string, JsonSchema>)) {
          if (!isTextValued({ type: fieldType(ps), schema: ps })) continue;
          const partLabel: [Label | undefined, string] = [REGION_PARTS[part], part];
          out.push({ path: `${prefix}${f.key}.${part}`, type: fieldType(ps), label: joinLabels(via ? [via, own, partLabel] : [own, partLabel], ' / ') });
        }
      } else if (isTextValued(f)) {
        out.push({ path: `${prefix}${f.key}`, type: f.type, label: joinLabels(via ? [via, own] : [own], ' / ') });
      }
    }
  };
  add(root, '');
  for (const f of fieldsOf(schemas[root] ?? undefined)) {
    const target = f.schema['x-ref']?.form as string | undefined;
    if (f.type === 'reference' && target && schemas[target]) add(target, `${f.key}.`, [f.schema['x-label'] as Label | undefined, f.key]);
  }
  return out;
}

/** The forms the reference fields of a schema point at (whose fields `choiceFields` lists too). */
export function referencedForms(schema: JsonSchema | null | undefined): string[] {
  const out = fieldsOf(schema ?? undefined)
    .filter((f) => f.type === 'reference')
    .map((f) => f.schema['x-ref']?.form as string | undefined);
  return [...new Set(out.filter((f): f is string => Boolean(f)))];
}

/** The report and field of the first widget that maps a shared filter: its field's
 * choices are the filter's. */
export function firstMapping(def: Pick<DashboardDefinition, 'widgets'>, key: string): { report: string; field: string } | undefined {
  for (const w of def.widgets) {
    const field = w.filters?.[key];
    if (field) return { report: w.report, field };
  }
  return undefined;
}

export interface Choice {
  value: string;
  label: string;
}

/** Where a choice filter's choices come from: a select's options, the staff directory, the
 * departments, or none (values are typed, as tags). */
export type ChoiceSource = { kind: 'options'; options: Choice[] } | { kind: 'users' } | { kind: 'departments' } | { kind: 'tags' };

/** A select's values (`enum`, else the keys of `x-options`) with their labels in `locale`. */
export function enumChoices(schema: JsonSchema, locale: Locale): Choice[] {
  const labels = (schema['x-options'] ?? {}) as Record<string, Label>;
  const values: unknown[] = Array.isArray(schema.enum) ? schema.enum : Object.keys(labels);
  return values.filter((v): v is string => typeof v === 'string').map((v) => ({ value: v, label: pickLabel(labels[v], locale, v) }));
}

/** The choices of a filter mapped to `path` of form `root`. */
export function choiceSource(schemas: Schemas, root: string, path: string, locale: Locale): ChoiceSource {
  const f = resolveField(schemas, root, path);
  switch (f?.type) {
    case 'select':
      return { kind: 'options', options: enumChoices(f.schema, locale) };
    case 'member':
      return { kind: 'users' };
    case 'department':
      return { kind: 'departments' };
    default:
      return { kind: 'tags' };
  }
}

export function userChoices(users: DirectoryUser[]): Choice[] {
  return users.map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }));
}

export function departmentChoices(departments: Department[]): Choice[] {
  return departments.map((d) => ({ value: d.id, label: d.name || d.id }));
}
