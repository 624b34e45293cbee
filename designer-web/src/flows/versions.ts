// The difference between two versions of a flow definition (or a version and the draft),
// for the flow designer's versions panel: nodes added / removed / changed by id, edges
// added / removed / changed, the trigger's changed settings, the flow's label, nodes that
// were only moved, and other top-level keys. Pure (no React); key order never matters.
import { isObj, type FlowDefinition, type FlowEdgeDef, type FlowNode, type Label } from './model.ts';

/** A node named in the difference: its id, type and label (of the side it exists on). */
export interface NodeRef {
  id: string;
  type: string;
  label?: Label;
}

export interface NodeChange extends NodeRef {
  /** The node's keys whose values differ (`label`, `assignee`, `type`, …), sorted. */
  attributes: string[];
}

/** An edge named in the difference; `kind` tells edges between the same nodes apart:
 * an outcome (`approved`, `ok`, …), `each` (a loop's body), `default`, or `when`. */
export interface EdgeRef {
  from: string;
  to: string;
  kind?: string;
}

export interface EdgeChange extends EdgeRef {
  attributes: string[];
}

export interface TriggerChange {
  /** The trigger's keys whose values differ (`type`, `form`, `condition`, …), sorted. */
  keys: string[];
  from: { type?: string; form?: string };
  to: { type?: string; form?: string };
}

export interface FlowDiff {
  nodesAdded: NodeRef[];
  nodesRemoved: NodeRef[];
  nodesChanged: NodeChange[];
  edgesAdded: EdgeRef[];
  edgesRemoved: EdgeRef[];
  edgesChanged: EdgeChange[];
  trigger: TriggerChange | null;
  /** The flow's own label changed. */
  label: boolean;
  /** Nodes on both sides whose stored position differs (nothing else about them may). */
  moved: string[];
  /** Other top-level keys that differ (e.g. `description`). */
  other: string[];
}

/** JSON with object keys sorted, so that equal values compare equal whatever their order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

/** The keys of two objects whose values differ (a missing key differs from a present one). */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>, skip: string[] = []): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !skip.includes(k) && !same(a[k], b[k])).sort();
}

function nodeRef(n: FlowNode): NodeRef {
  const ref: NodeRef = { id: n.id, type: String(n.type) };
  if (isObj(n.label)) ref.label = n.label as Label;
  return ref;
}

/** What tells an edge apart from another between the same two nodes. */
export function edgeKind(e: FlowEdgeDef): string | undefined {
  if (typeof e.outcome === 'string') return e.outcome;
  if (e.each === true) return 'each';
  if (e.default === true) return 'default';
  if (e.when !== undefined) return 'when';
  return undefined;
}

function edgeRef(e: FlowEdgeDef): EdgeRef {
  const kind = edgeKind(e);
  return kind === undefined ? { from: e.from, to: e.to } : { from: e.from, to: e.to, kind };
}

/** The identity of an edge for pairing a changed one: its ends, outcome and loop role
 * (not its condition, which is what may have changed). */
function edgeIdentity(e: FlowEdgeDef): string {
  return stableJson([e.from, e.to, typeof e.outcome === 'string' ? e.outcome : null, e.each === true]);
}

function diffNodes(a: FlowNode[], b: FlowNode[], out: FlowDiff) {
  const before = new Map(a.map((n) => [n.id, n]));
  const after = new Map(b.map((n) => [n.id, n]));
  for (const n of b) if (!before.has(n.id)) out.nodesAdded.push(nodeRef(n));
  for (const n of a) if (!after.has(n.id)) out.nodesRemoved.push(nodeRef(n));
  for (const n of b) {
    const old = before.get(n.id);
    if (!old) continue;
    const attributes = changedKeys(old as Record<string, unknown>, n as Record<string, unknown>, ['id']);
    if (attributes.length > 0) out.nodesChanged.push({ ...nodeRef(n), attributes });
  }
}

function diffEdges(a: FlowEdgeDef[], b: FlowEdgeDef[], out: FlowDiff) {
  // 1. equal edges cancel out (as a multiset: two equal edges are two edges)
  const left = [...a];
  const right: FlowEdgeDef[] = [];
  for (const e of b) {
    const i = left.findIndex((x) => same(x, e));
    if (i >= 0) left.splice(i, 1);
    else right.push(e);
  }
  // 2. what is left pairs up by ends + outcome: a changed condition, default or extra key
  const added: FlowEdgeDef[] = [];
  for (const e of right) {
    const i = left.findIndex((x) => edgeIdentity(x) === edgeIdentity(e));
    if (i < 0) {
      added.push(e);
      continue;
    }
    const [old] = left.splice(i, 1);
    out.edgesChanged.push({ ...edgeRef(e), attributes: changedKeys(old as Record<string, unknown>, e as Record<string, unknown>) });
  }
  // 3. the rest came or went
  out.edgesAdded.push(...added.map(edgeRef));
  out.edgesRemoved.push(...left.map(edgeRef));
}

function triggerSide(t: unknown): { type?: string; form?: string } {
  if (!isObj(t)) return {};
  const out: { type?: string; form?: string } = {};
  if (typeof t.type === 'string') out.type = t.type;
  if (typeof t.form === 'string' && t.form) out.form = t.form;
  return out;
}

const TOP_LEVEL = ['key', 'label', 'trigger', 'nodes', 'edges', 'layout'];

/** What changed from `a` to `b`. */
export function diffFlows(a: FlowDefinition, b: FlowDefinition): FlowDiff {
  const out: FlowDiff = {
    nodesAdded: [],
    nodesRemoved: [],
    nodesChanged: [],
    edgesAdded: [],
    edgesRemoved: [],
    edgesChanged: [],
    trigger: null,
    label: !same(a.label, b.label),
    moved: [],
    other: [],
  };
  const nodesA = Array.isArray(a.nodes) ? a.nodes : [];
  const nodesB = Array.isArray(b.nodes) ? b.nodes : [];
  diffNodes(nodesA, nodesB, out);
  diffEdges(Array.isArray(a.edges) ? a.edges : [], Array.isArray(b.edges) ? b.edges : [], out);

  const ta = isObj(a.trigger) ? a.trigger : {};
  const tb = isObj(b.trigger) ? b.trigger : {};
  const keys = changedKeys(ta, tb);
  if (keys.length > 0) out.trigger = { keys, from: triggerSide(ta), to: triggerSide(tb) };

  // positions: only of nodes kept, and only where both sides stored one
  const la = isObj(a.layout) ? a.layout : {};
  const lb = isObj(b.layout) ? b.layout : {};
  const kept = new Set(nodesA.map((n) => n.id));
  for (const n of nodesB) {
    if (!kept.has(n.id) || la[n.id] === undefined || lb[n.id] === undefined) continue;
    if (!same(la[n.id], lb[n.id])) out.moved.push(n.id);
  }

  out.other = changedKeys(a, b).filter((k) => !TOP_LEVEL.includes(k));
  return out;
}

/** No difference at all (a node that only moved is a difference). */
export function flowDiffIsEmpty(d: FlowDiff): boolean {
  return (
    d.nodesAdded.length +
      d.nodesRemoved.length +
      d.nodesChanged.length +
      d.edgesAdded.length +
      d.edgesRemoved.length +
      d.edgesChanged.length +
      d.moved.length +
      d.other.length ===
      0 &&
    d.trigger === null &&
    !d.label
  );
}

/** Published versions as the versions API lists them, newest first. */
export interface FlowVersionItem {
  version: number;
  author: string;
  published_at: string;
}

export function newestFirst(items: FlowVersionItem[]): FlowVersionItem[] {
  return [...items].sort((x, y) => y.version - x.version);
}
