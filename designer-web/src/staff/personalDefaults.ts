// Defaults that depend on who is filling the form: a member field whose `default` is
// "$me" gets the current user, a department field with "$my_department" their department
// (so a sales rep's new customer is theirs, inside their row scope).
import type { JsonSchema, Me } from '../api/types.ts';

export function personalDefaults(
  values: Record<string, unknown>,
  schema: JsonSchema,
  me: Pick<Me, 'username' | 'department'> | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [k, v] of Object.entries(values)) {
    const type = props[k]?.['x-type'];
    if (v === '$me') {
      if (type === 'member' && me) out[k] = me.username;
    } else if (v === '$my_department') {
      if (type === 'department' && me?.department) out[k] = me.department;
    } else {
      out[k] = v;
    }
  }
  return out;
}
