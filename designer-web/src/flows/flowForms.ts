// The forms a flow touches (the designer loads their schemas for its choices) and the
// member fields an assignee may name, on the trigger form or through a reference. Pure.
import { isObj, type FlowState } from './model.ts';

/** Forms whose schemas the designer needs: the trigger form, its reference targets
 * (for `customer.owner` assignees; given by `refTargets`), and the forms of create_record,
 * query and update_record nodes. */
export function formsOfInterest(s: FlowState | null, refTargets: string[] = []): string[] {
  const out = new Set<string>();
  if (!s) return [];
  if (s.trigger.form) out.add(s.trigger.form);
  for (const f of refTargets) if (f) out.add(f);
  for (const n of s.nodes) {
    const nd = n.data.node;
    if ((nd.type === 'create_record' || nd.type === 'query' || nd.type === 'update_record') && typeof nd.form === 'string' && nd.form) out.add(nd.form);
  }
  return [...out].sort();
}

/** Field paths an assignee `{field}` may name: member fields of the trigger form, and
 * `ref.member` through each reference field (given the reference's target form fields). */
export function memberFieldPaths(
  fields: Map<string, Record<string, unknown>>,
  targetFields: (form: string) => Map<string, Record<string, unknown>> | undefined,
): { path: string; via?: string; field: string; form?: string }[] {
  const out: { path: string; via?: string; field: string; form?: string }[] = [];
  for (const [k, sc] of fields) if (sc['x-type'] === 'member') out.push({ path: k, field: k });
  for (const [k, sc] of fields) {
    if (sc['x-type'] !== 'reference') continue;
    const ref = sc['x-ref'];
    const target = isObj(ref) && typeof ref.form === 'string' ? ref.form : null;
    if (!target) continue;
    for (const [m, ms] of targetFields(target) ?? new Map<string, Record<string, unknown>>())
      if (ms['x-type'] === 'member') out.push({ path: `${k}.${m}`, via: k, field: m, form: target });
  }
  return out;
}

/** Reference targets of a form's fields (`x-ref.form`). */
export function referenceTargets(fields: Map<string, Record<string, unknown>>): string[] {
  const out = new Set<string>();
  for (const sc of fields.values()) {
    const ref = sc['x-ref'];
    if (sc['x-type'] === 'reference' && isObj(ref) && typeof ref.form === 'string') out.add(ref.form);
  }
  return [...out].sort();
}
