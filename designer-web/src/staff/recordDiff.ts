// The merge patch (RFC 7396) that turns `before` into `after` at the root: changed and new
// keys with their value, removed keys as null. Only what the user changed is sent, so
// fields they may read but not write are never part of an update.
export function mergePatch(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(v)) patch[k] = v;
  }
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  return patch;
}

/** Data to create a record: everything but server-assigned fields. */
export function createBody(data: Record<string, unknown>, serverAssigned: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!serverAssigned.has(k) && v !== undefined) out[k] = v;
  return out;
}
