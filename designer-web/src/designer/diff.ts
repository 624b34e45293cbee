// Differences between two form definitions (versions): fields added, removed and
// changed, layout moves, rules and form-level changes. Pure.
import type { FormDefinition, JsonSchema, LayoutNode } from '../api/types.ts';
import { fromDefinition } from './definition.ts';
import { jsonEqual, type Label, type RequiredWhen } from './model.ts';

export type LayoutChange =
  | { kind: 'groupAdded'; label: Label }
  | { kind: 'groupRemoved'; label: Label }
  | { kind: 'groupRenamed'; from: Label; to: Label }
  | { kind: 'moved'; key: string; from: Label[]; to: Label[] }
  | { kind: 'reordered'; container: Label[] }
  | { kind: 'ruleAdded' | 'ruleRemoved' | 'ruleChanged'; target: string };

export interface DefinitionDiff {
  added: string[];
  removed: string[];
  changed: { key: string; attributes: string[] }[];
  layout: LayoutChange[];
  /** Form-level changes: label, required-when rules, other schema keywords, indexes. */
  form: string[];
}

function fieldAttrDiff(a: JsonSchema, b: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (jsonEqual(a[k], b[k])) continue;
    if (k === 'items' && a['x-type'] === 'sub_table' && b['x-type'] === 'sub_table') {
      const ai = (a.items ?? {}) as JsonSchema;
      const bi = (b.items ?? {}) as JsonSchema;
      const ap = (ai.properties ?? {}) as Record<string, JsonSchema>;
      const bp = (bi.properties ?? {}) as Record<string, JsonSchema>;
      for (const c of Object.keys(bp)) if (!(c in ap)) out.push(`${prefix}column +${c}`);
      for (const c of Object.keys(ap)) if (!(c in bp)) out.push(`${prefix}column -${c}`);
      for (const c of Object.keys(ap))
        if (c in bp) out.push(...fieldAttrDiff(ap[c]!, bp[c]!, `${prefix}${c}.`));
      const ar = ((ai.required ?? []) as string[]).slice().sort();
      const br = ((bi.required ?? []) as string[]).slice().sort();
      for (const c of new Set([...ar, ...br])) if (ar.includes(c) !== br.includes(c)) out.push(`${prefix}${c}.required`);
      continue;
    }
    if (k === 'items' && (a['x-type'] === 'multi_select' || b['x-type'] === 'multi_select')) {
      out.push(`${prefix}enum`);
      continue;
    }
    out.push(prefix + k);
  }
  return out;
}

interface Placed {
  path: Label[];
  index: number;
  containerKey: string;
}

function placements(layout: LayoutNode | undefined) {
  const fields = new Map<string, Placed>();
  const groups: Label[] = [];
  const rules = new Map<string, string>();
  const order = new Map<string, string[]>();
  const visit = (n: LayoutNode, path: Label[], containerKey: string, index: number) => {
    if (n.type === 'Control') {
      const m = /^#\/properties\/(.+)$/.exec(n.scope ?? '');
      if (!m) return;
      fields.set(m[1]!, { path, index, containerKey });
      const list = order.get(containerKey) ?? [];
      list.push(m[1]!);
      order.set(containerKey, list);
      if (n.rule) rules.set(m[1]!, JSON.stringify(n.rule));
      return;
    }
    let nextPath = path;
    let key = containerKey;
    if (n.type === 'Group') {
      const label = n.label ?? {};
      groups.push(label);
      nextPath = [...path, label];
      key = `${containerKey}>${JSON.stringify(label)}`;
      if (n.rule) rules.set(`group:${pickAny(label)}`, JSON.stringify(n.rule));
    }
    (n.elements ?? []).forEach((c, i) => visit(c, nextPath, key, i));
  };
  if (layout) visit(layout, [], 'root', 0);
  return { fields, groups, rules, order };
}

function pickAny(l: Label): string {
  return l['zh-CN'] ?? l.en ?? Object.values(l)[0] ?? '';
}

/** What changed from definition `a` to `b`. */
export function diffDefinitions(a: FormDefinition, b: FormDefinition): DefinitionDiff {
  const ap = (a.schema?.properties ?? {}) as Record<string, JsonSchema>;
  const bp = (b.schema?.properties ?? {}) as Record<string, JsonSchema>;
  const areq = new Set<string>((a.schema?.required as string[] | undefined) ?? []);
  const breq = new Set<string>((b.schema?.required as string[] | undefined) ?? []);
  const diff: DefinitionDiff = { added: [], removed: [], changed: [], layout: [], form: [] };
  for (const k of Object.keys(bp)) if (!(k in ap)) diff.added.push(k);
  for (const k of Object.keys(ap)) if (!(k in bp)) diff.removed.push(k);
  for (const k of Object.keys(ap)) {
    if (!(k in bp)) continue;
    const attrs = fieldAttrDiff(ap[k]!, bp[k]!);
    if (areq.has(k) !== breq.has(k)) attrs.push('required');
    if (attrs.length > 0) diff.changed.push({ key: k, attributes: attrs });
  }
  if (!jsonEqual(a.label, b.label)) diff.form.push('label');
  if (!jsonEqual(a.description, b.description)) diff.form.push('description');
  if (!jsonEqual(a.indexes, b.indexes)) diff.form.push('indexes');
  if (!jsonEqual(a.print, b.print)) diff.form.push('print');
  const sa = fromDefinition(a);
  const sb = fromDefinition(b);
  const rwKey = (r: RequiredWhen) => JSON.stringify([r.fields, r.when, r.value]);
  const ra = new Set(sa.requiredWhen.map(rwKey));
  const rb = new Set(sb.requiredWhen.map(rwKey));
  if (ra.size !== rb.size || [...ra].some((x) => !rb.has(x))) diff.form.push('requiredWhen');
  const extraKeys = new Set([...Object.keys(sa.schemaExtra), ...Object.keys(sb.schemaExtra)]);
  for (const k of extraKeys) if (!jsonEqual(sa.schemaExtra[k], sb.schemaExtra[k])) diff.form.push(`schema.${k}`);

  const la = placements(a.layout);
  const lb = placements(b.layout);
  const ga = la.groups.map((g) => JSON.stringify(g));
  const gb = lb.groups.map((g) => JSON.stringify(g));
  const addedG = lb.groups.filter((g) => !ga.includes(JSON.stringify(g)));
  const removedG = la.groups.filter((g) => !gb.includes(JSON.stringify(g)));
  // A group removed and one added at the same position: a rename.
  if (addedG.length === removedG.length && la.groups.length === lb.groups.length) {
    addedG.forEach((g, i) => diff.layout.push({ kind: 'groupRenamed', from: removedG[i]!, to: g }));
  } else {
    for (const g of addedG) diff.layout.push({ kind: 'groupAdded', label: g });
    for (const g of removedG) diff.layout.push({ kind: 'groupRemoved', label: g });
  }
  const renamed = new Map<string, string>();
  if (addedG.length === removedG.length && la.groups.length === lb.groups.length)
    removedG.forEach((g, i) => renamed.set(JSON.stringify(g), JSON.stringify(addedG[i])));
  const norm = (path: Label[]) => path.map((l) => renamed.get(JSON.stringify(l)) ?? JSON.stringify(l)).join('>');
  for (const [k, pb] of lb.fields) {
    const pa = la.fields.get(k);
    if (pa && norm(pa.path) !== pb.path.map((l) => JSON.stringify(l)).join('>'))
      diff.layout.push({ kind: 'moved', key: k, from: pa.path, to: pb.path });
  }
  for (const [ck, listB] of lb.order) {
    const listA = la.order.get(ck);
    if (!listA) continue;
    const common = listB.filter((k) => listA.includes(k));
    const commonA = listA.filter((k) => listB.includes(k));
    if (!jsonEqual(common, commonA)) diff.layout.push({ kind: 'reordered', container: lb.fields.get(listB[0]!)!.path });
  }
  for (const [k, r] of lb.rules) {
    const before = la.rules.get(k);
    if (before === undefined) diff.layout.push({ kind: 'ruleAdded', target: k });
    else if (before !== r) diff.layout.push({ kind: 'ruleChanged', target: k });
  }
  for (const k of la.rules.keys()) if (!lb.rules.has(k)) diff.layout.push({ kind: 'ruleRemoved', target: k });
  return diff;
}

export function diffIsEmpty(d: DefinitionDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.layout.length + d.form.length === 0;
}
