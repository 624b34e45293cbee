// Client-side checks (the server stays the authority) and the node a server error
// pointer concerns. Pure.
import { optionsOfField, typeOf } from './fieldTypes.ts';
import { KEY_RE, fieldByKey, rootFields, type DesignerState, type FieldNode, type Label, type LayoutItem, type NodeId } from './model.ts';

export interface Problem {
  pointer: string;
  rule: string;
  message: string;
}

function ptr(...parts: string[]): string {
  return parts.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Problems the designer can see before asking the server, with the server's pointers. */
export function lint(s: DesignerState): Problem[] {
  const out: Problem[] = [];
  if (!KEY_RE.test(s.key)) out.push({ pointer: '/key', rule: 'key', message: 'key' });
  const checkField = (f: FieldNode, base: string) => {
    if (!KEY_RE.test(f.key)) out.push({ pointer: base, rule: 'key', message: 'key' });
    const label = f.schema['x-label'] as Label | undefined;
    if (!label || !Object.values(label).some((v) => v.trim() !== ''))
      out.push({ pointer: `${base}/x-label`, rule: 'label', message: 'label' });
    const sc = f.schema;
    for (const [lo, hi] of [
      ['minLength', 'maxLength'],
      ['minimum', 'maximum'],
      ['minItems', 'maxItems'],
    ] as const) {
      if (typeof sc[lo] === 'number' && typeof sc[hi] === 'number' && sc[lo] > sc[hi])
        out.push({ pointer: `${base}/${lo}`, rule: 'range', message: 'range' });
    }
    const t = typeOf(sc);
    if ((t === 'select' || t === 'multi_select') && optionsOfField(sc).length === 0)
      out.push({ pointer: `${base}/enum`, rule: 'options', message: 'options' });
    if (t === 'select' || t === 'multi_select') {
      const opts = optionsOfField(sc);
      if (new Set(opts.map((o) => o.value)).size !== opts.length || opts.some((o) => o.value === ''))
        out.push({ pointer: `${base}/enum`, rule: 'options', message: 'options' });
    }
    if (t === 'reference' && !KEY_RE.test(String(sc['x-ref']?.form ?? '')))
      out.push({ pointer: `${base}/x-ref/form`, rule: 'x-ref', message: 'x-ref' });
  };
  const seen = new Set<string>();
  for (const f of rootFields(s)) {
    const base = ptr('schema', 'properties', f.key);
    if (seen.has(f.key)) out.push({ pointer: base, rule: 'duplicate', message: 'duplicate' });
    seen.add(f.key);
    checkField(f, base);
    const colSeen = new Set<string>();
    for (const c of f.columns ?? []) {
      const cb = `${base}/items${ptr('properties', c.key)}`;
      if (colSeen.has(c.key)) out.push({ pointer: cb, rule: 'duplicate', message: 'duplicate' });
      colSeen.add(c.key);
      checkField(c, cb);
    }
  }
  return out;
}

function decodeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The node a server error pointer concerns: a field (`/schema/properties/<key>/…`, a
 * sub-table column `…/<table>/items/properties/<col>/…`) or a layout element
 * (`/layout/elements/<i>/…`). Null for the rest. */
export function nodeOfPointer(s: DesignerState, pointer: string): NodeId | null {
  const parts = pointer.split('/').slice(1).map(decodeToken);
  if (parts[0] === 'schema' && parts[1] === 'properties' && parts[2] !== undefined) {
    const f = fieldByKey(s, parts[2]);
    if (!f) return null;
    if (parts[3] === 'items' && parts[4] === 'properties' && parts[5] !== undefined) {
      const c = f.columns?.find((x) => x.key === parts[5]);
      if (c) return c.id;
    }
    return f.id;
  }
  if (parts[0] === 'layout') {
    let list: LayoutItem[] = s.root;
    let found: LayoutItem | null = null;
    for (let i = 1; i + 1 < parts.length + 1; i += 2) {
      if (parts[i] !== 'elements') break;
      const n: LayoutItem | undefined = list[Number(parts[i + 1])];
      if (!n) break;
      found = n;
      if (n.kind === 'field') break;
      list = n.children;
    }
    return found?.id ?? null;
  }
  return null;
}
