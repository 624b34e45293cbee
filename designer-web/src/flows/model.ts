// The flow designer's model (no React, no React Flow import): the definition format of
// docs/flows.md, the canvas state it is edited as (nodes and edges shaped like React
// Flow's `Node` / `Edge`) and the queries on that state.
//
// The rest of the model, by concern: the conversion of a definition to and from the
// canvas state (definition.ts), editing operations (operations.ts), the node each palette
// item adds (nodeTemplates.ts), assignees, durations and join modes as the panels edit
// them (nodeSettings.ts), the visual condition builder ↔ JSON Logic and the context
// variables (conditions.ts), client checks and server error pointers → the node / edge /
// trigger they concern (checks.ts), the forms a flow touches (flowForms.ts). The rules of
// the loop, http, report and subflow nodes, notify channels, the end node's terminate,
// task modes and relative dates are in nodes.ts.

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

export function nodeById(s: FlowState, id: string): CanvasNode | undefined {
  return s.nodes.find((n) => n.id === id);
}

export function edgeById(s: FlowState, id: string): CanvasEdge | undefined {
  return s.edges.find((e) => e.id === id);
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
