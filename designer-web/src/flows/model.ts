// The flow designer's pure logic (no React, no React Flow import): the definition format
// of docs/flows.md, its conversion to and from the canvas's nodes and edges (shaped like
// React Flow's `Node` / `Edge`), server error pointers → the node / edge / trigger they
// concern, and the visual condition builder ↔ JSON Logic. The rules of the loop, http,
// report and subflow nodes, notify channels, the end node's terminate, task modes and
// relative dates are in nodes.ts.
import {
  DERIVED_HANDLE_TYPES,
  edgeHandleOf,
  edgeRuleProblems,
  handleConnectable,
  newEdgeOf,
  nodeSettingProblems,
  nodeVars,
  relDateOf,
  triggerVars,
} from './nodes.ts';

export type Label = Record<string, string>;

export const NODE_TYPES = [
  'start',
  'end',
  'branch',
  'parallel',
  'join',
  'loop',
  'approval',
  'task',
  'update_record',
  'create_record',
  'notify',
  'cc',
  'http',
  'report',
  'subflow',
  'delay',
  'set_var',
  'query',
  'users',
  'reject',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The node types a `before_write` guard may use (the server refuses others with
 * pointer `/nodes/N/type`, rule `guard`). */
export const GUARD_NODE_TYPES: readonly NodeType[] = ['start', 'query', 'set_var', 'branch', 'reject', 'end'];

/** Node types with no outgoing edges (they end the token / the guard). */
export const TERMINAL_NODE_TYPES: readonly string[] = ['end', 'reject'];

export function isKnownNodeType(t: unknown): t is NodeType {
  return typeof t === 'string' && (NODE_TYPES as readonly string[]).includes(t);
}

/** Is this a guard flow (trigger `before_write`)? */
export function isGuardTrigger(tr: { type?: unknown } | null | undefined): boolean {
  return tr?.type === 'before_write';
}

/** May a node of this type be used with this trigger? (guards allow only a few types) */
export function nodeAllowed(type: string, trigger: { type?: unknown } | null | undefined): boolean {
  if (isGuardTrigger(trigger)) return (GUARD_NODE_TYPES as readonly string[]).includes(type);
  return type !== 'reject';
}

export const KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;
export const NODE_ID_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** `head_of`: the department head of the initiator, of the record's owner, or of the
 * user / department in a member or department field (the server climbs the tree). */
export type HeadOf = 'initiator' | 'record' | { field: string };
export type Assignee = { user: string } | { role: string } | { roles: string[] } | { field: string } | { initiator: true } | { head_of: HeadOf };
export type AssigneeKind = 'user' | 'role' | 'roles' | 'field' | 'initiator' | 'head';
export const ASSIGNEE_KINDS: AssigneeKind[] = ['user', 'role', 'roles', 'field', 'initiator', 'head'];

export type DurationUnit = 'minutes' | 'hours' | 'days';
export const DURATION_UNITS: DurationUnit[] = ['minutes', 'hours', 'days'];
export type DeadlineAction = 'remind' | 'escalate' | 'auto_approve' | 'auto_reject';
export const DEADLINE_ACTIONS: DeadlineAction[] = ['remind', 'escalate', 'auto_approve', 'auto_reject'];

export interface Deadline {
  minutes?: number;
  hours?: number;
  days?: number;
  action: DeadlineAction;
  to?: Assignee;
}

export type JoinMode = 'all' | 'any' | { n: number };

/** A node of the definition. Fields the designer does not know are carried through. */
export interface FlowNode {
  id: string;
  type: NodeType;
  label?: Label;
  assignee?: Assignee;
  mode?: string | JoinMode;
  editable?: string[];
  deadline?: Deadline;
  set?: Record<string, unknown>;
  form?: string;
  data?: Record<string, unknown>;
  to?: Assignee;
  title?: string;
  /** notify: the body template; http: `{key: JSON Logic}`. */
  body?: string | Record<string, unknown>;
  /** notify: `inbox` (default), `email`, `webhook`. */
  channel?: string;
  /** notify email: JSON Logic giving an address or a list. */
  address?: unknown;
  /** notify email to addresses, webhook, http: the role whose field mask applies; report:
   * the role the report runs as (its rows and field mask shape the result). */
  as_role?: string;
  /** report: the key of the (published) report to run. */
  report?: string;
  /** notify webhook, http: the url (a template). */
  url?: string;
  /** notify webhook, http: `{name: template}`. */
  headers?: Record<string, string>;
  /** notify webhook: `{key: JSON Logic}`. */
  payload?: Record<string, unknown>;
  /** http: GET, POST (default), PUT, PATCH, DELETE. */
  method?: string;
  /** loop: JSON Logic giving the list. */
  over?: unknown;
  /** loop: the item's variable (default `item`). */
  as?: string;
  minutes?: number;
  hours?: number;
  days?: number;
  name?: string;
  value?: unknown;
  /** query: list filter (JSON Logic; bare variables name fields of `form`); report: JSON
   * Logic ANDed with the report's own filter. */
  filter?: unknown;
  /** query: at most this many records (≤ 1000, server default 100). */
  limit?: number;
  /** update_record on another record: JSON Logic giving its id. */
  record?: unknown;
  /** reject: the message (strict Handlebars). */
  message?: string;
  /** subflow: the key of the (published) flow to start. */
  flow?: string;
  /** subflow: `{key: JSON Logic}`, the child's `vars.input`. */
  input?: Record<string, unknown>;
  /** subflow: wait for the child (default true; written only as `false`). */
  wait?: boolean;
  /** subflow: JSON Logic giving text; one running child per key. */
  key?: unknown;
  /** end: end the whole instance here (written only as `true`). */
  terminate?: boolean;
  [k: string]: unknown;
}

export type Outcome = 'approved' | 'rejected';
export const OUTCOMES: Outcome[] = ['approved', 'rejected'];

export interface FlowEdgeDef {
  from: string;
  to: string;
  when?: unknown;
  default?: boolean;
  outcome?: Outcome | string;
  /** Out of a loop: the edge into its body. */
  each?: boolean;
  [k: string]: unknown;
}

export type TriggerType = 'record_created' | 'record_updated' | 'record_deleted' | 'manual' | 'date_field' | 'schedule' | 'before_write' | 'webhook' | 'subflow';
export const TRIGGER_TYPES: TriggerType[] = ['record_created', 'record_updated', 'record_deleted', 'manual', 'date_field', 'schedule', 'before_write', 'webhook', 'subflow'];

/** Triggers without a record: a webhook never has a form; a schedule or a flow that only
 * runs as another flow's sub-flow may. */
export function triggerHasForm(type: unknown): 'required' | 'optional' | 'none' {
  return type === 'webhook' ? 'none' : type === 'schedule' || type === 'subflow' ? 'optional' : 'required';
}

export interface Trigger {
  type: TriggerType | string;
  /** Required except for `schedule` (optional there) and `webhook` (none). */
  form?: string;
  /** record_updated, before_write: only when one of these changed. */
  fields?: string[];
  condition?: unknown;
  /** date_field: a date or datetime field of `form`. */
  field?: string;
  /** date_field: days after the date (negative: before). */
  offset_days?: number;
  /** schedule: 5-field cron in the app time zone. */
  cron?: string;
  [k: string]: unknown;
}

/** The trigger keys each type uses besides `type` (others are dropped when the type is
 * switched in the designer; a loaded definition keeps whatever it has). */
export const TRIGGER_KEYS: Record<TriggerType, string[]> = {
  record_created: ['form', 'condition'],
  record_updated: ['form', 'fields', 'condition'],
  /** A soft delete; the condition sees the record as it was. */
  record_deleted: ['form', 'condition'],
  manual: ['form', 'condition'],
  date_field: ['form', 'field', 'offset_days', 'condition'],
  schedule: ['cron', 'form'],
  before_write: ['form', 'fields', 'condition'],
  webhook: [],
  subflow: ['form'],
};

/** The trigger switched to another type: keys the new type does not use are dropped;
 * a date trigger starts with offset 0. */
export function switchTriggerType(tr: Trigger, type: string): Trigger {
  const keys = TRIGGER_KEYS[type as TriggerType];
  if (!keys) return { ...tr, type };
  const out: Trigger = { type };
  for (const k of keys) if (tr[k] !== undefined) out[k] = tr[k];
  if (triggerHasForm(type) === 'required' && out.form === undefined) out.form = '';
  if (type === 'date_field' && out.offset_days === undefined) out.offset_days = 0;
  if (type === 'schedule' && out.cron === undefined) out.cron = '0 9 * * 1';
  return out;
}

export interface Point {
  x: number;
  y: number;
}

export interface FlowDefinition {
  key: string;
  label: Label;
  trigger: Trigger;
  nodes: FlowNode[];
  edges: FlowEdgeDef[];
  layout?: Record<string, Point>;
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------
// Canvas state (structurally a React Flow `Node[]` / `Edge[]`)

/** A canvas node; `data.node` is the definition node (its `id` mirrors the canvas id). */
export interface CanvasNode {
  id: string;
  type?: string;
  position: Point;
  data: { node: FlowNode; [k: string]: unknown };
  selected?: boolean;
}

/** A canvas edge; `data.edge` is the definition edge minus `from`/`to`. */
export interface CanvasEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
  data: { edge: Omit<FlowEdgeDef, 'from' | 'to'>; [k: string]: unknown };
  selected?: boolean;
}

export interface FlowState {
  key: string;
  label: Label;
  trigger: Trigger;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
  /** Top-level definition keys the designer does not edit, carried through. */
  extra: Record<string, unknown>;
}

/** The React Flow node type every flow node is drawn with. */
export const CANVAS_NODE_TYPE = 'flow';

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function emptyDefinition(key: string, label: Label, form = ''): FlowDefinition {
  return {
    key,
    label,
    trigger: { type: 'record_created', form },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'end', type: 'end' },
    ],
    edges: [],
    layout: { start: { x: 0, y: 0 }, end: { x: 0, y: 300 } },
  };
}

/** Positions for nodes without a stored one: layers by distance from the start. */
export function autoLayout(nodes: FlowNode[], edges: FlowEdgeDef[], known: Record<string, Point> = {}): Record<string, Point> {
  const out: Record<string, Point> = {};
  const depth = new Map<string, number>();
  const start = nodes.find((n) => n.type === 'start')?.id ?? nodes[0]?.id;
  if (start !== undefined) {
    depth.set(start, 0);
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      const d = depth.get(id)!;
      for (const e of edges) {
        if (e.from === id && !depth.has(e.to)) {
          depth.set(e.to, d + 1);
          queue.push(e.to);
        }
      }
    }
  }
  const maxDepth = Math.max(0, ...depth.values());
  const perLayer = new Map<number, number>();
  for (const n of nodes) {
    const k = known[n.id];
    if (k && Number.isFinite(k.x) && Number.isFinite(k.y)) {
      out[n.id] = { x: k.x, y: k.y };
      continue;
    }
    const d = depth.get(n.id) ?? maxDepth + 1;
    const i = perLayer.get(d) ?? 0;
    perLayer.set(d, i + 1);
    out[n.id] = { x: i * 240, y: d * 140 };
  }
  return out;
}

export function edgeId(i: number): string {
  return `e${i}`;
}

/** A fresh edge id not used by `edges`. */
export function nextEdgeId(edges: CanvasEdge[]): string {
  const used = new Set(edges.map((e) => e.id));
  let i = edges.length;
  while (used.has(edgeId(i))) i++;
  return edgeId(i);
}

/** Definition → canvas state. Edge ids are `e<index>`; nodes without a layout position
 * are placed by `autoLayout`. */
export function fromDefinition(def: FlowDefinition): FlowState {
  const { key, label, trigger, nodes, edges, layout, ...extra } = clone(def);
  const nodeList = Array.isArray(nodes) ? nodes : [];
  const edgeList = Array.isArray(edges) ? edges : [];
  const pos = autoLayout(nodeList, edgeList, layout ?? {});
  const sourceTypes = new Map<string, string>(nodeList.map((n) => [n.id, n.type]));
  return {
    key,
    label: label ?? {},
    trigger: trigger ?? { type: 'record_created', form: '' },
    extra,
    nodes: nodeList.map((n) => ({
      id: n.id,
      type: CANVAS_NODE_TYPE,
      position: pos[n.id] ?? { x: 0, y: 0 },
      data: { node: n },
    })),
    edges: edgeList.map((e, i) => {
      const { from, to, ...rest } = e;
      const handle = edgeHandleOf(sourceTypes.get(from), rest);
      return { id: edgeId(i), source: from, target: to, sourceHandle: handle, data: { edge: rest } };
    }),
  };
}

/** Canvas state → definition (nodes and edges in canvas order, positions in `layout`). */
export function toDefinition(s: FlowState): FlowDefinition {
  const layout: Record<string, Point> = {};
  for (const n of s.nodes) layout[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  return {
    ...clone(s.extra),
    key: s.key,
    label: clone(s.label),
    trigger: clone(s.trigger),
    nodes: s.nodes.map((n) => ({ ...clone(n.data.node), id: n.id })),
    edges: s.edges.map((e) => ({ from: e.source, to: e.target, ...clone(e.data.edge) })),
    layout,
  };
}

// ---------------------------------------------------------------------------------------
// Editing operations (return new state)

export function nodeById(s: FlowState, id: string): CanvasNode | undefined {
  return s.nodes.find((n) => n.id === id);
}

export function edgeById(s: FlowState, id: string): CanvasEdge | undefined {
  return s.edges.find((e) => e.id === id);
}

/** `<type>_<n>` not yet used (the first start is `start`). */
export function newNodeId(s: FlowState, type: NodeType): string {
  const used = new Set(s.nodes.map((n) => n.id));
  if ((type === 'start' || type === 'end') && !used.has(type)) return type;
  let i = 1;
  while (used.has(`${type}_${i}`)) i++;
  return `${type}_${i}`;
}

export const DEFAULT_LABELS: Partial<Record<NodeType, Label>> = {
  approval: { 'zh-CN': '审批', en: 'Approval' },
  task: { 'zh-CN': '任务', en: 'Task' },
};

/** The definition node a palette item adds. */
export function nodeTemplate(id: string, type: NodeType): FlowNode {
  switch (type) {
    case 'approval':
    case 'task':
      return { id, type, label: { ...DEFAULT_LABELS[type] }, assignee: { initiator: true }, mode: 'any' };
    case 'update_record':
      return { id, type, set: {} };
    case 'create_record':
      return { id, type, form: '', data: {} };
    case 'notify':
      return { id, type, to: { initiator: true }, title: '', body: '' };
    case 'cc':
      return { id, type, to: { initiator: true } };
    case 'delay':
      return { id, type, hours: 1 };
    case 'set_var':
      return { id, type, name: '', value: null };
    case 'query':
      return { id, type, form: '', name: '' };
    case 'users':
      return { id, type, of: { initiator: true }, name: '' };
    case 'reject':
      return { id, type, message: '' };
    case 'loop':
      return { id, type, as: 'item' };
    case 'http':
      return { id, type, method: 'POST', url: '' };
    case 'report':
      return { id, type, report: '', as_role: '' };
    case 'subflow':
      return { id, type, flow: '' };
    default:
      return { id, type };
  }
}

export function addNode(s: FlowState, type: NodeType, position: Point): { state: FlowState; id: string } {
  const id = newNodeId(s, type);
  const node: CanvasNode = { id, type: CANVAS_NODE_TYPE, position: { ...position }, data: { node: nodeTemplate(id, type) } };
  return { state: { ...s, nodes: [...s.nodes, node] }, id };
}

export function removeNode(s: FlowState, id: string): FlowState {
  return {
    ...s,
    nodes: s.nodes.filter((n) => n.id !== id),
    edges: s.edges.filter((e) => e.source !== id && e.target !== id),
  };
}

export function removeEdge(s: FlowState, id: string): FlowState {
  return { ...s, edges: s.edges.filter((e) => e.id !== id) };
}

/** Replace a definition node's fields (`undefined` values are removed). */
export function updateNode(s: FlowState, id: string, patch: Partial<FlowNode>): FlowState {
  return {
    ...s,
    nodes: s.nodes.map((n) => {
      if (n.id !== id) return n;
      const node: FlowNode = { ...n.data.node, ...patch, id };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete node[k];
      return { ...n, data: { ...n.data, node } };
    }),
  };
}

/** Replace a definition edge's fields (`undefined` values are removed). */
export function updateEdge(s: FlowState, id: string, patch: Partial<Omit<FlowEdgeDef, 'from' | 'to'>>): FlowState {
  return {
    ...s,
    edges: s.edges.map((e) => {
      if (e.id !== id) return e;
      const edge = { ...e.data.edge, ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete edge[k];
      const type = nodeById(s, e.source)?.data.node.type;
      const handle =
        type !== undefined && DERIVED_HANDLE_TYPES.includes(type)
          ? edgeHandleOf(type, edge)
          : typeof edge.outcome === 'string' && e.sourceHandle
            ? edge.outcome
            : e.sourceHandle;
      return { ...e, sourceHandle: handle ?? null, data: { ...e.data, edge } };
    }),
  };
}

/** Rename a node, following its edges. Refused (state unchanged) when taken or invalid. */
export function renameNode(s: FlowState, from: string, to: string): FlowState {
  if (from === to || !NODE_ID_RE.test(to) || s.nodes.some((n) => n.id === to)) return s;
  return {
    ...s,
    nodes: s.nodes.map((n) => (n.id === from ? { ...n, id: to, data: { ...n.data, node: { ...n.data.node, id: to } } } : n)),
    edges: s.edges.map((e) => ({
      ...e,
      source: e.source === from ? to : e.source,
      target: e.target === from ? to : e.target,
    })),
  };
}

export interface Connection {
  source: string | null;
  target: string | null;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** Can the user draw this edge? No self-loops, nothing into a start or out of an end,
 * not from the failed handle of a subflow that is not waited for, no duplicate of an
 * existing edge with the same source handle. */
export function canConnect(s: FlowState, c: Connection): boolean {
  if (!c.source || !c.target || c.source === c.target) return false;
  const src = nodeById(s, c.source);
  const dst = nodeById(s, c.target);
  if (!src || !dst) return false;
  if (TERMINAL_NODE_TYPES.includes(src.data.node.type) || dst.data.node.type === 'start') return false;
  if (!handleConnectable(src.data.node, c.sourceHandle)) return false;
  return !s.edges.some((e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? null) === (c.sourceHandle ?? null));
}

/** Add an edge for a connection: out of an approval the handle is the outcome; out of a
 * branch the first edge becomes the default; out of a loop the each handle (or, without a
 * handle, the first edge) is the body; out of an http, a report or a subflow node the
 * failed handle gives the failed edge. */
export function connect(s: FlowState, c: Connection): FlowState {
  if (!canConnect(s, c)) return s;
  const src = nodeById(s, c.source!)!;
  const type = src.data.node.type;
  const edge: Omit<FlowEdgeDef, 'from' | 'to'> = {};
  let handle: string | null = null;
  if (type === 'approval') {
    const outcome = c.sourceHandle === 'approved' || c.sourceHandle === 'rejected' ? c.sourceHandle : 'approved';
    edge.outcome = outcome;
    handle = outcome;
  } else if (type === 'branch' && !s.edges.some((e) => e.source === src.id)) {
    edge.default = true;
  }
  const special = newEdgeOf(
    type,
    c.sourceHandle,
    s.edges.filter((e) => e.source === src.id).map((e) => e.data.edge),
  );
  const e: CanvasEdge = {
    id: nextEdgeId(s.edges),
    source: c.source!,
    target: c.target!,
    sourceHandle: special ? special.handle : handle,
    data: { edge: special ? special.edge : edge },
  };
  return { ...s, edges: [...s.edges, e] };
}

/** Make one edge out of a branch the default (the others lose the flag). */
export function setDefaultEdge(s: FlowState, id: string): FlowState {
  const e = edgeById(s, id);
  if (!e) return s;
  let next = s;
  for (const o of s.edges) {
    if (o.source === e.source && o.id !== id && o.data.edge.default) next = updateEdge(next, o.id, { default: undefined });
  }
  return updateEdge(next, id, { default: true, when: undefined });
}

/** Make one edge out of a loop its body (`each: true`; the others lose the flag). */
export function setEachEdge(s: FlowState, id: string): FlowState {
  const e = edgeById(s, id);
  if (!e) return s;
  let next = s;
  for (const o of s.edges) {
    if (o.source === e.source && o.id !== id && o.data.edge.each !== undefined) next = updateEdge(next, o.id, { each: undefined });
  }
  return updateEdge(next, id, { each: true });
}

// ---------------------------------------------------------------------------------------
// Assignees, durations

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

// ---------------------------------------------------------------------------------------
// Condition builder ↔ JSON Logic

export type CondOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'empty' | 'not_empty';
export const COND_OPS: CondOp[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'empty', 'not_empty'];

export interface Cond {
  /** A context variable: `record.<field>`, `vars.<name>`, `initiator`, `task.outcome` … */
  var: string;
  op: CondOp;
  /** For `in`: a list. Unused for empty / not_empty. With `varValues`, `{var: name}`
   * (a context value, as in query filters: `customer == record.customer`) or a context
   * value shifted by days, `{add_days: [{var: name}, n]}` (`last_inspection_on <= today - 91`). */
  value?: unknown;
}

export interface ParseOptions {
  /** Accept `{var: …}` and `{add_days: [{var: …}, n]}` on the value side (query filters
   * compare fields with context values). */
  varValues?: boolean;
}

/** `{var: name}` → name (the value side of a filter condition), else null. */
export function valueVar(v: unknown): string | null {
  return varOf(v);
}

const CMP: Partial<Record<CondOp, string>> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const CMP_BACK: Record<string, CondOp> = { '==': 'eq', '===': 'eq', '!=': 'ne', '!==': 'ne', '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

export function needsValue(op: CondOp): boolean {
  return op !== 'empty' && op !== 'not_empty';
}

export function condLogic(c: Cond): unknown {
  const v = { var: c.var };
  if (c.op === 'empty') return { '!': v };
  if (c.op === 'not_empty') return { '!!': v };
  if (c.op === 'in') return { in: [v, Array.isArray(c.value) ? c.value : [c.value]] };
  return { [CMP[c.op]!]: [v, c.value ?? null] };
}

/** One condition, or several joined with `and`; undefined for none. */
export function condsLogic(cs: Cond[]): unknown {
  if (cs.length === 0) return undefined;
  if (cs.length === 1) return condLogic(cs[0]!);
  return { and: cs.map(condLogic) };
}

function varOf(x: unknown): string | null {
  return isObj(x) && Object.keys(x).length === 1 && typeof x.var === 'string' ? x.var : null;
}

function parseOne(logic: unknown, opts: ParseOptions = {}): Cond | null {
  if (!isObj(logic)) return null;
  const ops = Object.keys(logic);
  if (ops.length !== 1) return null;
  const op = ops[0]!;
  const arg = logic[op];
  if (op === '!' || op === '!!') {
    const a = Array.isArray(arg) && arg.length === 1 ? arg[0] : arg;
    const v = varOf(a);
    return v ? { var: v, op: op === '!' ? 'empty' : 'not_empty' } : null;
  }
  if (!Array.isArray(arg) || arg.length !== 2) return null;
  const v = varOf(arg[0]);
  const rhsVar = varOf(arg[1]);
  if (!v || (isObj(arg[1]) && rhsVar !== null && !opts.varValues)) return null;
  if (op === 'in') return Array.isArray(arg[1]) ? { var: v, op: 'in', value: arg[1] } : null;
  const c = CMP_BACK[op];
  if (!c) return null;
  if (rhsVar !== null && opts.varValues) return { var: v, op: c, value: { var: rhsVar } };
  if (opts.varValues && relDateOf(arg[1])) return { var: v, op: c, value: arg[1] };
  if (isObj(arg[1]) || Array.isArray(arg[1])) return null;
  return { var: v, op: c, value: arg[1] };
}

/** The conditions of a JSON Logic expression of the builder's shapes (one comparison, or
 * `and` of several); [] for none; null when it is something else (shown as JSON). */
export function parseConds(logic: unknown, opts: ParseOptions = {}): Cond[] | null {
  if (logic === undefined || logic === null) return [];
  if (isObj(logic) && Object.keys(logic).length === 1 && Array.isArray(logic.and)) {
    const parts = (logic.and as unknown[]).map((x) => parseOne(x, opts));
    return parts.every((p) => p !== null) ? (parts as Cond[]) : null;
  }
  const one = parseOne(logic, opts);
  return one ? [one] : null;
}

/** Is a `set` / `data` value a JSON Logic expression (rather than a literal)? A plain
 * object with one operator key. */
const LOGIC_WORDS = new Set(['var', 'if', 'cat', 'and', 'or', 'in', 'min', 'max', 'substr', 'merge', 'map', 'filter', 'reduce', 'all', 'some', 'none', 'missing', 'missing_some', 'add_days', 'days_between']);

export function isLogicValue(v: unknown): boolean {
  if (!isObj(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const k = keys[0]!;
  return LOGIC_WORDS.has(k) || !/^[A-Za-z0-9_]+$/.test(k);
}

/** The context variables a condition may use, for the builder's field list. */
export function contextVars(recordFields: string[], s: FlowState | null): string[] {
  const vars = recordFields.map((f) => `record.${f}`);
  vars.push('record.id', 'initiator', 'today', 'now', 'task.outcome', 'task.comment', 'task.by');
  if (s) {
    vars.push(...triggerVars(s.trigger));
    for (const n of s.nodes) {
      const nd = n.data.node;
      if ((nd.type === 'set_var' || nd.type === 'query' || nd.type === 'users') && typeof nd.name === 'string' && nd.name) vars.push(`vars.${nd.name}`);
      if (nd.type === 'create_record') vars.push(`vars.${n.id}`);
      vars.push(...nodeVars(nd, n.id));
    }
  }
  return [...new Set(vars)];
}

/** The JSON Logic variables an expression uses (for a client-side check). */
export function logicVars(logic: unknown, out: string[] = []): string[] {
  if (Array.isArray(logic)) for (const x of logic) logicVars(x, out);
  else if (isObj(logic)) {
    for (const [k, v] of Object.entries(logic)) {
      if (k === 'var') {
        const name = Array.isArray(v) ? v[0] : v;
        if (typeof name === 'string') out.push(name);
      } else logicVars(v, out);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Quick client checks (the server's publish checks stay the authority)

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

// ---------------------------------------------------------------------------------------
// Instance view

export interface HistoryStep {
  at: string;
  node: string | null;
  action: string;
  actor: string | null;
  detail: unknown;
}

/** Nodes the instance has visited (per its history). */
export function visitedNodes(history: HistoryStep[]): Set<string> {
  return new Set(history.map((h) => h.node).filter((n): n is string => typeof n === 'string'));
}
