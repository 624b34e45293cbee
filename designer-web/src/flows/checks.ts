// Quick client checks (the server's publish checks stay the authority), and the node /
// edge / trigger a server error pointer concerns. Pure.
import { OUTCOMES, isGuardTrigger, nodeAllowed, type FlowState } from './model.ts';
import { edgeRuleProblems, nodeSettingProblems } from './nodes.ts';

export interface Problem {
  pointer: string;
  rule: string;
  message: string;
}

/** A few structural problems visible before asking the server, with its pointer shape. */
export function lint(s: FlowState): Problem[] {
  const out: Problem[] = [];
  const starts = s.nodes.filter((n) => n.data.node.type === 'start');
  if (starts.length !== 1) out.push({ pointer: '/nodes', rule: 'start', message: 'exactly one start' });
  const seen = new Set<string>();
  s.nodes.forEach((n, i) => {
    if (seen.has(n.id)) out.push({ pointer: `/nodes/${i}/id`, rule: 'unique', message: 'duplicate id' });
    seen.add(n.id);
    const nd = n.data.node;
    const outs = s.edges.filter((e) => e.source === n.id);
    if (nd.type === 'approval') {
      for (const o of OUTCOMES)
        if (!outs.some((e) => e.data.edge.outcome === o)) out.push({ pointer: `/nodes/${i}`, rule: 'outcomes', message: o });
    }
    if (nd.type === 'branch' && !outs.some((e) => e.data.edge.default === true))
      out.push({ pointer: `/nodes/${i}`, rule: 'default', message: 'default' });
    for (const rule of edgeRuleProblems(nd.type, outs.map((e) => e.data.edge), nd)) out.push({ pointer: `/nodes/${i}`, rule, message: rule });
    for (const p of nodeSettingProblems(nd, { flow: s.key })) out.push({ pointer: `/nodes/${i}/${p.key}`, rule: p.rule, message: p.key });
    if (typeof nd.type === 'string' && !nodeAllowed(nd.type, s.trigger))
      out.push({ pointer: `/nodes/${i}/type`, rule: isGuardTrigger(s.trigger) ? 'guard' : 'guardOnly', message: nd.type });
  });
  const tr = s.trigger;
  if (tr.type === 'schedule') {
    if (typeof tr.cron !== 'string' || !tr.cron.trim()) out.push({ pointer: '/trigger/cron', rule: 'cron', message: 'cron' });
  } else if (tr.type === 'webhook') {
    if (tr.form !== undefined) out.push({ pointer: '/trigger/form', rule: 'webhookForm', message: 'form' });
  } else if (!tr.form && tr.type !== 'subflow') out.push({ pointer: '/trigger/form', rule: 'required', message: 'form' });
  if (tr.type === 'date_field' && !tr.field) out.push({ pointer: '/trigger/field', rule: 'dateField', message: 'field' });
  return out;
}

/** Nodes not allowed with the trigger (ids): under a before_write trigger every type but
 * start, query, set_var, branch, reject, end; otherwise reject. */
export function disallowedNodes(s: FlowState): Set<string> {
  return new Set(s.nodes.filter((n) => typeof n.data.node.type === 'string' && !nodeAllowed(n.data.node.type, s.trigger)).map((n) => n.id));
}

/** A cron expression has 5 space-separated fields (the server checks the rest). */
export function cronLooksValid(c: string): boolean {
  return c.trim().split(/\s+/).length === 5;
}

// ---------------------------------------------------------------------------------------
// Server error pointers

export type PointerTarget =
  | { kind: 'node'; id: string; path: string[] }
  | { kind: 'edge'; id: string; path: string[] }
  | { kind: 'trigger'; path: string[] }
  | { kind: 'flow'; path: string[] };

function decodeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** What a definition pointer (`/nodes/3/assignee`, `/edges/2/when`, `/trigger/form`,
 * `/layout/x`, `/key`) concerns, given the node and edge ids in definition order (as
 * they were when the definition was sent). */
export function locatePointer(pointer: string, nodeIds: string[], edgeIds: string[]): PointerTarget {
  const parts = pointer === '' ? [] : pointer.split('/').slice(1).map(decodeToken);
  const [head, idx, ...rest] = parts;
  if (head === 'nodes' && idx !== undefined) {
    const id = nodeIds[Number(idx)];
    if (/^\d+$/.test(idx) && id !== undefined) return { kind: 'node', id, path: rest };
  }
  if (head === 'edges' && idx !== undefined) {
    const id = edgeIds[Number(idx)];
    if (/^\d+$/.test(idx) && id !== undefined) return { kind: 'edge', id, path: rest };
  }
  if (head === 'layout' && idx !== undefined && nodeIds.includes(idx)) return { kind: 'node', id: idx, path: ['layout', ...rest] };
  if (head === 'trigger') return { kind: 'trigger', path: parts.slice(1) };
  return { kind: 'flow', path: parts };
}

export interface ErrorLike {
  pointer: string;
  rule?: string;
  message: string;
}

/** A publish refused only for assignees nobody can act as yet (a role nobody holds, an
 * approval by a role that may not approve): the admin may publish anyway. */
export function onlyUnstaffed(errors: ErrorLike[]): boolean {
  return errors.length > 0 && errors.every((e) => e.rule === 'nobody' || e.rule === 'approve');
}

export interface LocatedErrors {
  nodes: Map<string, ErrorLike[]>;
  edges: Map<string, ErrorLike[]>;
  trigger: ErrorLike[];
  flow: ErrorLike[];
}

/** Group server errors by what they concern, for the state that was sent. */
export function locateErrors(s: FlowState, errors: ErrorLike[]): LocatedErrors {
  const nodeIds = s.nodes.map((n) => n.id);
  const edgeIds = s.edges.map((e) => e.id);
  const out: LocatedErrors = { nodes: new Map(), edges: new Map(), trigger: [], flow: [] };
  const push = <K>(m: Map<K, ErrorLike[]>, k: K, e: ErrorLike) => m.set(k, [...(m.get(k) ?? []), e]);
  for (const e of errors) {
    const t = locatePointer(e.pointer, nodeIds, edgeIds);
    if (t.kind === 'node') push(out.nodes, t.id, e);
    else if (t.kind === 'edge') push(out.edges, t.id, e);
    else if (t.kind === 'trigger') out.trigger.push(e);
    else out.flow.push(e);
  }
  return out;
}
