// What a reference picker searches: the referenced form's display field and its other
// one-line text fields the caller may read (the definition the server hands the caller is
// already masked to those), as one list filter: an `or` of substring tests (`in` with the
// field second, docs/api.md "The filter language"). Long texts (notes) and computed values
// are left out: they match too much to pick a record by. Pure.
import type { JsonSchema } from '../api/types.ts';
import { fieldType, type FieldType } from './model.ts';

/** Field types whose value names a record well enough to find it by. */
const SEARCHABLE: readonly FieldType[] = ['text', 'email', 'cn_mobile', 'uscc', 'serial'];

/** At most this many fields go into one search (the display field first). */
export const MAX_SEARCH_FIELDS = 12;

/** Does the server type the field as text (`"string"`, or `["string", "null"]`)? Only
 * those take a substring test. */
function isText(prop: JsonSchema): boolean {
  const t = prop.type;
  if (t === 'string') return true;
  return Array.isArray(t) && t.includes('string') && t.every((x) => x === 'string' || x === 'null');
}

/** The root fields a search of the form looks in: the display field when it is text, then
 * the other searchable text fields in schema order. Without a schema (the form could not
 * be read) only the display field, as before. */
export function searchFields(schema: JsonSchema | null | undefined, display: string | undefined): string[] {
  if (!schema) return display ? [display] : [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const out: string[] = [];
  if (display && props[display] && isText(props[display])) out.push(display);
  for (const [key, prop] of Object.entries(props)) {
    if (key === display || !isText(prop) || !SEARCHABLE.includes(fieldType(prop))) continue;
    out.push(key);
  }
  return out.slice(0, MAX_SEARCH_FIELDS);
}

/** What a search asks the list for (its `fields` parameter): the display field when the
 * caller may read it (whatever its type; with no schema, assumed), then the searched
 * fields, for the hint. */
export function fieldsToRead(schema: JsonSchema | null | undefined, display: string | undefined, searched: string[]): string[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const out = display && (!schema || display in props) ? [display] : [];
  for (const f of searched) if (!out.includes(f)) out.push(f);
  return out;
}

/** The list filter for `text` over `fields`; undefined for an empty text (then the picker
 * lists the newest records) or no fields. */
export function searchFilter(text: string, fields: string[]): unknown {
  const needle = text.trim();
  if (!needle || fields.length === 0) return undefined;
  const parts = fields.map((f) => ({ in: [needle, { var: f }] }));
  return parts.length === 1 ? parts[0] : { or: parts };
}

/** When a record was found by another field than its display text: that field's value, to
 * show next to the display text. */
export function matchHint(data: Record<string, unknown>, display: string | undefined, fields: string[], text: string): string | undefined {
  const needle = text.trim();
  if (!needle) return undefined;
  const has = (k: string) => typeof data[k] === 'string' && (data[k] as string).includes(needle);
  if (display && has(display)) return undefined;
  const k = fields.find((f) => f !== display && has(f));
  return k ? (data[k] as string) : undefined;
}
