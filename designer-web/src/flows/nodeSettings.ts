// Node settings as the side panels edit them: an assignee as a kind and a value, a
// duration as an amount and a unit, a join's mode. Pure.
import { DURATION_UNITS, isObj, type Assignee, type AssigneeKind, type DurationUnit } from './model.ts';

export function assigneeKind(a: unknown): AssigneeKind | null {
  if (!isObj(a)) return null;
  if (typeof a.user === 'string') return 'user';
  if (typeof a.role === 'string') return 'role';
  if (Array.isArray(a.roles) && a.roles.every((r) => typeof r === 'string')) return 'roles';
  if (typeof a.field === 'string') return 'field';
  if (a.initiator === true) return 'initiator';
  if (a.head_of === 'initiator' || a.head_of === 'record' || (isObj(a.head_of) && typeof a.head_of.field === 'string')) return 'head';
  return null;
}

export function assigneeValue(a: unknown): string {
  if (!isObj(a)) return '';
  for (const k of ['user', 'role', 'field'] as const) if (typeof a[k] === 'string') return a[k];
  if (Array.isArray(a.roles)) return a.roles.filter((r) => typeof r === 'string').join(',');
  if (typeof a.head_of === 'string') return a.head_of;
  if (isObj(a.head_of) && typeof a.head_of.field === 'string') return `field:${a.head_of.field}`;
  return '';
}

export function makeAssignee(kind: AssigneeKind, value: string): Assignee {
  switch (kind) {
    case 'user':
      return { user: value };
    case 'role':
      return { role: value };
    case 'roles':
      // comma-separated role keys
      return { roles: value.split(',').filter((r) => r !== '') };
    case 'field':
      return { field: value };
    case 'initiator':
      return { initiator: true };
    case 'head':
      // 'initiator' | 'record' | 'field:<member or department field>'
      return { head_of: value.startsWith('field:') ? { field: value.slice('field:'.length) } : value === 'record' ? 'record' : 'initiator' };
  }
}

/** `{minutes|hours|days: n}` → amount and unit (the first unit present). */
export function durationOf(o: unknown): { amount: number | null; unit: DurationUnit } {
  if (isObj(o)) {
    for (const u of DURATION_UNITS) if (typeof o[u] === 'number') return { amount: o[u], unit: u };
  }
  return { amount: null, unit: 'hours' };
}

/** The object with exactly one duration unit set (others removed). */
export function withDuration<T extends Record<string, unknown>>(o: T, amount: number | null, unit: DurationUnit): T {
  const out: Record<string, unknown> = { ...o };
  for (const u of DURATION_UNITS) delete out[u];
  if (amount !== null && Number.isFinite(amount)) out[unit] = amount;
  return out as T;
}

export function joinModeKind(m: unknown): 'all' | 'any' | 'n' {
  if (m === 'any') return 'any';
  if (isObj(m) && typeof m.n === 'number') return 'n';
  return 'all';
}
