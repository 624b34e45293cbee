// Pure helpers of the task page and the inbox (no React).
import type { Label } from '../api/types.ts';
import { isObj } from './model.ts';

export interface TaskRecord {
  id: number | null;
  data: Record<string, unknown>;
}

/** The record of a task answer: a record item `{id, data, …}` or bare data; null when
 * the caller may not see it. */
export function recordOf(record: unknown): TaskRecord | null {
  if (!isObj(record)) return null;
  if (isObj(record.data)) return { id: typeof record.id === 'number' ? record.id : null, data: record.data };
  return { id: null, data: record };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The editable fields that changed (a removed value becomes null), for `complete`'s `data`;
 * undefined when nothing changed. */
export function changedEditable(before: Record<string, unknown>, after: Record<string, unknown>, editable: string[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const f of editable) {
    if (same(before[f], after[f])) continue;
    out[f] = after[f] === undefined ? null : after[f];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The outcomes a task offers: approvals approve or reject, tasks are done. */
export function outcomesOf(kind: string): ('approved' | 'rejected' | 'done')[] {
  return kind === 'approval' ? ['approved', 'rejected'] : ['done'];
}

/** A task label may be a `{zh-CN, en}` label, a string, or missing. */
export function labelOf(l: unknown): Label | undefined {
  if (typeof l === 'string') return { 'zh-CN': l, en: l };
  if (isObj(l)) return Object.fromEntries(Object.entries(l).filter(([, v]) => typeof v === 'string')) as Label;
  return undefined;
}

/** A task status's tag colour, the same in the inbox and on the task page. */
export function statusColor(status: string): string {
  if (status === 'open') return 'blue';
  if (status === 'rejected' || status === 'returned') return 'red';
  if (status === 'cancelled' || status === 'transferred') return 'default';
  return 'green';
}

/** Is a due date past? */
export function overdue(due: string | null | undefined, now = Date.now()): boolean {
  if (!due) return false;
  const t = Date.parse(due);
  return Number.isFinite(t) && t < now;
}

/** Who may stop an instance: administrators cancel, the initiator withdraws. */
export function stopActions(status: string, me: { username: string; platform_role: string | null }, initiator: string | null): ('cancel' | 'withdraw')[] {
  if (status !== 'running') return [];
  const out: ('cancel' | 'withdraw')[] = [];
  if (me.platform_role === 'admin') out.push('cancel');
  if (initiator && me.username === initiator) out.push('withdraw');
  return out;
}

/** One line of the inbox's "initiated by me" list. */
export interface InitiatedRow {
  id: number;
  app: string;
  flow: string;
  flowLabel?: Label;
  form: string | null;
  record: number | null;
  status: string;
  initiator: string;
  started_at: string;
  ended_at: string | null;
}

/** The flows' labels by `app/flow`, from `GET /apps/{app}/flows` answers. */
export function flowLabels(byApp: Record<string, { key: string; label?: unknown }[]>): Map<string, Label> {
  const out = new Map<string, Label>();
  for (const [app, flows] of Object.entries(byApp)) {
    for (const f of flows) {
      const l = labelOf(f.label);
      if (l) out.set(`${app}/${f.key}`, l);
    }
  }
  return out;
}

/** The instances the caller started (or was copied), newest first (by start time, then
 * id), with their flow's label where it is known (a flow the caller may no longer list has
 * none). */
export function initiatedRows(
  instances: {
    id: number;
    app: string;
    flow: string;
    form?: string | null;
    record?: number | null;
    status: string;
    initiator?: string | null;
    started_at: string;
    ended_at?: string | null;
  }[],
  labels: Map<string, Label>,
): InitiatedRow[] {
  const time = (at: string) => {
    const t = Date.parse(at);
    return Number.isFinite(t) ? t : 0;
  };
  return [...instances]
    .sort((a, b) => time(b.started_at) - time(a.started_at) || b.id - a.id)
    .map((i) => {
      const row: InitiatedRow = {
        id: i.id,
        app: i.app,
        flow: i.flow,
        form: i.form || null,
        record: typeof i.record === 'number' ? i.record : null,
        status: i.status,
        initiator: i.initiator ?? '',
        started_at: i.started_at,
        ended_at: i.ended_at ?? null,
      };
      const l = labels.get(`${i.app}/${i.flow}`);
      if (l) row.flowLabel = l;
      return row;
    });
}

/** The apps the instances belong to, once each, in order of first appearance. */
export function appsOf(instances: { app: string }[]): string[] {
  return [...new Set(instances.map((i) => i.app))];
}
