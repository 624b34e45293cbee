// Fields of the draft whose type differs from the same key in the published version.
// Records already stored keep the values they were written with: publishing converts and
// checks none of them, so after such a change they may no longer validate (and cannot be
// saved until the value is corrected). The designer names these fields on the canvas, in
// the property panel and next to Publish. Pure.
import type { FormDefinition, JsonSchema } from '../api/types.ts';
import type { FieldType } from '../forms/model.ts';
import { typeOf } from './fieldTypes.ts';
import { isObj, rootFields, type DesignerState, type NodeId } from './model.ts';

/** A field's type as far as stored values are concerned: the platform type and, for a
 * computed field, the JSON type of its result. */
export interface StoredType {
  type: FieldType;
  /** `number`, `integer`, `string` or `boolean`; computed fields only. */
  result?: string;
}

export interface PublishedTypeChange {
  /** The draft's canvas node (a root field or a sub-table column). */
  id: NodeId;
  /** `amount`, or `parts_used.qty` for a sub-table column. */
  path: string;
  /** In the published version. */
  from: StoredType;
  /** In the draft. */
  to: StoredType;
}

export function storedType(schema: JsonSchema): StoredType {
  const type = typeOf(schema);
  if (type !== 'computed') return { type };
  return typeof schema.type === 'string' ? { type, result: schema.type } : { type };
}

function sameType(a: StoredType, b: StoredType): boolean {
  return a.type === b.type && a.result === b.result;
}

function properties(schema: unknown): Record<string, JsonSchema> {
  return isObj(schema) && isObj(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
}

/** Draft fields (root fields, then each sub-table's columns) whose stored type differs
 * from the field of the same key in `published`, in canvas order. Fields new in the draft
 * and fields the draft removed are not type changes. A sub-table's columns are compared
 * only while both versions have it as a sub-table. None without a published version. */
export function publishedTypeChanges(state: DesignerState, published: FormDefinition | null | undefined): PublishedTypeChange[] {
  if (!published) return [];
  const before = properties(published.schema);
  const out: PublishedTypeChange[] = [];
  for (const f of rootFields(state)) {
    const old = before[f.key];
    if (!isObj(old)) continue;
    const from = storedType(old);
    const to = storedType(f.schema);
    if (!sameType(from, to)) {
      out.push({ id: f.id, path: f.key, from, to });
      continue;
    }
    if (to.type !== 'sub_table') continue;
    const oldCols = properties(old.items);
    for (const c of f.columns ?? []) {
      const oc = oldCols[c.key];
      if (!isObj(oc)) continue;
      const cf = storedType(oc);
      const ct = storedType(c.schema);
      if (!sameType(cf, ct)) out.push({ id: c.id, path: `${f.key}.${c.key}`, from: cf, to: ct });
    }
  }
  return out;
}

/** The changes by canvas node. */
export function changesByNode(changes: PublishedTypeChange[]): Map<NodeId, PublishedTypeChange> {
  return new Map(changes.map((c) => [c.id, c]));
}
