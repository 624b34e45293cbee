// Pure rules of the newer node types and settings (docs/flows.md "Nodes", "Outbox",
// "Inbound webhooks", "Task actions"): the `loop`, `http`, `report` and `subflow` nodes and
// their edges, the notify channels (inbox, email, webhook) and the keys each may carry, the
// variables they add to the context, the `end` node's `terminate`, the task / approval
// modes, and relative dates (`add_days`) on the value side of a query filter.
// The model's modules (definition.ts, operations.ts, conditions.ts, checks.ts) build on
// these; this file imports only types from model.ts.
import type { FlowEdgeDef, FlowNode } from './model.ts';

type EdgeData = Omit<FlowEdgeDef, 'from' | 'to'>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A lower-case key (`vars.<name>` of an http node, `as` of a loop; KEY_RE of model.ts). */
const VAR_KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;

export function isVarKey(s: unknown): boolean {
  return typeof s === 'string' && VAR_KEY_RE.test(s);
}

// ---------------------------------------------------------------------------------------
// http

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
/** The server's default method. */
export const DEFAULT_HTTP_METHOD: HttpMethod = 'POST';

/** Outcomes of the edges out of an http (or report) node: `ok` (or no outcome) and `failed`. */
export const HTTP_OUTCOMES = ['ok', 'failed'] as const;
export type HttpOutcome = (typeof HTTP_OUTCOMES)[number];

/** The outcome an edge out of an http or report node stands for (no outcome: ok). */
export function httpOutcomeOf(e: EdgeData): HttpOutcome {
  return e.outcome === 'failed' ? 'failed' : 'ok';
}

/** The edge patch for an outcome: `failed`, or ok — an explicit `"ok"` stays, otherwise
 * the edge is plain (the server takes a plain edge as the ok one). */
export function httpOutcomePatch(e: EdgeData, outcome: HttpOutcome): Partial<EdgeData> {
  if (outcome === 'failed') return { outcome: 'failed' };
  return { outcome: e.outcome === 'ok' ? 'ok' : undefined };
}

/** The variable an http node's answer goes into (`name`, default the node id). */
export function httpResultName(n: FlowNode, id: string): string {
  return typeof n.name === 'string' && n.name ? n.name : id;
}

/** Node types whose edges are ok / failed: http, and report (a run through the outbox). */
export const OK_FAILED_TYPES: readonly string[] = ['http', 'report'];

export function hasOkFailedEdges(type: string | undefined): boolean {
  return type !== undefined && OK_FAILED_TYPES.includes(type);
}

// ---------------------------------------------------------------------------------------
// report

/** The variable a report node's run goes into (`name`, default the node id): `{ok, status,
 * body}`, `body` being the run's JSON (`rows[].cells`, `columns`, `total_rows` …). */
export function reportResultName(n: FlowNode, id: string): string {
  return typeof n.name === 'string' && n.name ? n.name : id;
}

export interface ReportChoice {
  key: string;
  label?: Record<string, string> | null;
  /** The report's source form. */
  form?: string | null;
}

/** The reports a report node may run: the app's reports (`GET /apps/{app}/reports`, all
 * published), by key; `current` (the node's report) is kept as a choice when it is not
 * (or no longer) there, marked `missing`, so it stays visible. */
export function reportChoices(reports: ReportChoice[], current?: unknown): (ReportChoice & { missing?: boolean })[] {
  const out: (ReportChoice & { missing?: boolean })[] = reports.map((r) => ({ ...r })).sort((a, b) => a.key.localeCompare(b.key));
  if (typeof current === 'string' && current && !out.some((r) => r.key === current)) out.push({ key: current, missing: true });
  return out;
}

/** The cell keys of a report definition's rows: each dimension's `key` (default its
 * `field`), then each measure's `key` (docs/reports.md). */
export function reportColumnKeys(def: unknown): string[] {
  if (!isObj(def)) return [];
  const keys: string[] = [];
  for (const d of Array.isArray(def.dimensions) ? def.dimensions : []) {
    const k = isObj(d) ? (typeof d.key === 'string' ? d.key : d.field) : undefined;
    if (typeof k === 'string' && k) keys.push(k);
  }
  for (const m of Array.isArray(def.measures) ? def.measures : []) if (isObj(m) && typeof m.key === 'string' && m.key) keys.push(m.key);
  return keys;
}

/** A notify body listing the rows of a report node's run, one line per row:
 * `{{#each vars.<name>.body.rows}}{{this.cells.status}} · {{this.cells.orders}}\n{{/each}}`
 * (a key that is not a plain word, such as a joined path, as a `[literal]` segment). */
export function reportRowsTemplate(name: string, columns: string[]): string {
  const cell = (k: string) => (/^\w+$/.test(k) ? `{{this.cells.${k}}}` : `{{this.cells.[${k}]}}`);
  return `{{#each vars.${name}.body.rows}}${columns.map(cell).join(' · ')}\n{{/each}}`;
}

// ---------------------------------------------------------------------------------------
// subflow

/** Outcomes of the edges out of a subflow node: `completed` (or no outcome) and `failed`
 * (a failed or cancelled child). */
export const SUBFLOW_OUTCOMES = ['completed', 'failed'] as const;
export type SubflowOutcome = (typeof SUBFLOW_OUTCOMES)[number];

/** The outcome an edge out of a subflow node stands for (no outcome: completed). */
export function subflowOutcomeOf(e: EdgeData): SubflowOutcome {
  return e.outcome === 'failed' ? 'failed' : 'completed';
}

/** The edge patch for an outcome: `failed`, or completed — an explicit `"completed"`
 * stays, otherwise the edge is plain (the server takes a plain edge as the completed one). */
export function subflowOutcomePatch(e: EdgeData, outcome: SubflowOutcome): Partial<EdgeData> {
  if (outcome === 'failed') return { outcome: 'failed' };
  return { outcome: e.outcome === 'completed' ? 'completed' : undefined };
}

/** Does the token wait for the child (`wait`, default true; only `false` does not)? */
export function subflowWaits(n: FlowNode): boolean {
  return n.wait !== false;
}

/** The patch of the "wait" checkbox: `"wait": false` when unticked, no key when ticked
 * (the server's default). */
export function subflowWaitPatch(wait: boolean): Partial<FlowNode> {
  return { wait: wait ? undefined : false };
}

/** The variable the child's result goes into (`name`, default the node id). */
export function subflowResultName(n: FlowNode, id: string): string {
  return typeof n.name === 'string' && n.name ? n.name : id;
}

/** Does the subflow start on another form's record (`form` / `record` given) rather than
 * on this instance's record? */
export function subflowOnOtherRecord(n: FlowNode): boolean {
  return n.form !== undefined || n.record !== undefined;
}

/** The patch switching a subflow between this instance's record and another form's
 * record (`form` starts empty; `record` is kept when there is one). */
export function subflowTargetPatch(n: FlowNode, other: boolean): Partial<FlowNode> {
  if (!other) return { form: undefined, record: undefined };
  return { form: typeof n.form === 'string' ? n.form : '' };
}

export interface FlowChoice {
  key: string;
  label?: Record<string, string> | null;
  published_version?: number | null;
}

/** The flows a subflow node may start: the app's published flows other than `self`
 * (the flow being edited), by key; `current` (the node's flow) is kept as a choice even
 * when it is not (or no longer) published, marked `unpublished`, so it stays visible. */
export function subflowChoices(flows: FlowChoice[], self: string, current?: unknown): (FlowChoice & { unpublished?: boolean; self?: boolean })[] {
  const out: (FlowChoice & { unpublished?: boolean; self?: boolean })[] = flows
    .filter((f) => f.key !== self && typeof f.published_version === 'number' && f.published_version > 0)
    .map((f) => ({ ...f }))
    .sort((a, b) => a.key.localeCompare(b.key));
  if (typeof current === 'string' && current && !out.some((f) => f.key === current)) {
    const known = flows.find((f) => f.key === current);
    out.push({ ...(known ?? { key: current }), ...(current === self ? { self: true } : { unpublished: true }) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// end, task / approval modes

/** The patch of the end node's "End the whole instance here" checkbox (`terminate: true`
 * only when ticked). */
export function terminatePatch(on: boolean): Partial<FlowNode> {
  return { terminate: on ? true : undefined };
}

/** Does this end node end the whole instance? */
export function isTerminating(n: FlowNode): boolean {
  return n.type === 'end' && n.terminate === true;
}

/** How the tasks of an approval / task node with several assignees go: any (the first
 * answer decides), all, sequential (one after the other, in order). */
export const TASK_MODES = ['any', 'all', 'sequential'] as const;
export type TaskMode = (typeof TASK_MODES)[number];

/** The node's mode as the selector shows it (none: any; an unknown one as it is). */
export function taskModeOf(n: FlowNode): string {
  return typeof n.mode === 'string' ? n.mode : 'any';
}

// ---------------------------------------------------------------------------------------
// loop

/** The loop variable (`as`, default `item`). */
export function loopVar(n: FlowNode): string {
  return typeof n.as === 'string' && n.as ? n.as : 'item';
}

/** The source handles of a loop: its body (each) and the way out (done). */
export const LOOP_HANDLES = ['each', 'done'] as const;

// ---------------------------------------------------------------------------------------
// Edges out of loops, http, report and subflow nodes

/** Node types whose edges' source handle follows from the edge's data alone. */
export const DERIVED_HANDLE_TYPES: readonly string[] = ['loop', 'http', 'report', 'subflow'];

/** The source handle an edge is drawn from, given its source node's type: the outcome out
 * of an approval, ok / failed out of an http or report node, completed / failed out of a subflow,
 * each / done out of a loop; null for nodes with one handle. */
export function edgeHandleOf(sourceType: string | undefined, e: EdgeData): string | null {
  switch (sourceType) {
    case 'approval':
      return typeof e.outcome === 'string' ? e.outcome : null;
    case 'http':
    case 'report':
      return httpOutcomeOf(e);
    case 'subflow':
      return subflowOutcomeOf(e);
    case 'loop':
      return e.each === true ? 'each' : 'done';
    default:
      return null;
  }
}

/** The data of a new edge out of a loop, an http, a report or a subflow node, drawn from
 * `handle` (null: no handle given). Out of a loop: the each handle, or the first edge when no
 * each edge exists yet, is the body (`each: true`); out of an http / report / subflow node: the failed
 * handle gives `outcome: "failed"`, anything else a plain (ok / completed) edge. Null for
 * other types. */
export function newEdgeOf(sourceType: string | undefined, handle: string | null | undefined, siblings: EdgeData[]): { edge: EdgeData; handle: string } | null {
  if (sourceType === 'loop') {
    const each = handle === 'each' || (handle !== 'done' && !siblings.some((e) => e.each === true));
    return each ? { edge: { each: true }, handle: 'each' } : { edge: {}, handle: 'done' };
  }
  if (hasOkFailedEdges(sourceType)) {
    return handle === 'failed' ? { edge: { outcome: 'failed' }, handle: 'failed' } : { edge: {}, handle: 'ok' };
  }
  if (sourceType === 'subflow') {
    return handle === 'failed' ? { edge: { outcome: 'failed' }, handle: 'failed' } : { edge: {}, handle: 'completed' };
  }
  return null;
}

/** May an edge be drawn from this handle of the node? Not from the failed handle of a
 * subflow that is not waited for (it has no failed edge). */
export function handleConnectable(n: FlowNode | undefined, handle: string | null | undefined): boolean {
  return !(n?.type === 'subflow' && handle === 'failed' && !subflowWaits(n));
}

/** Rules the edges out of a node break (client hints; the server's checks decide):
 * `loopEdges` — a loop needs exactly two edges, one of them `each`;
 * `httpEdges` / `reportEdges` — an http / report node needs one ok edge and at most one
 * failed edge;
 * `subflowEdges` — a subflow node needs one completed edge and at most one failed edge;
 * `subflowNoWait` — a subflow that is not waited for (`node` given, `wait: false`) has no
 * failed edge. */
export function edgeRuleProblems(sourceType: string | undefined, outs: EdgeData[], node?: FlowNode): string[] {
  if (sourceType === 'loop') {
    const each = outs.filter((e) => e.each === true).length;
    return each !== 1 || outs.length !== 2 ? ['loopEdges'] : [];
  }
  if (sourceType !== undefined && hasOkFailedEdges(sourceType)) {
    const failed = outs.filter((e) => e.outcome === 'failed').length;
    const ok = outs.length - failed;
    return ok !== 1 || failed > 1 ? [`${sourceType}Edges`] : [];
  }
  if (sourceType === 'subflow') {
    const failed = outs.filter((e) => e.outcome === 'failed').length;
    const ok = outs.length - failed;
    const out = ok !== 1 || failed > 1 ? ['subflowEdges'] : [];
    if (node && !subflowWaits(node) && failed > 0) out.push('subflowNoWait');
    return out;
  }
  return [];
}

// ---------------------------------------------------------------------------------------
// Notify channels

export const NOTIFY_CHANNELS = ['inbox', 'email', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** The keys each channel uses (the server refuses `address` outside email and `url`,
 * `headers`, `payload` outside webhook; a webhook has no recipients, title or body). */
export const CHANNEL_KEYS: Record<NotifyChannel, readonly string[]> = {
  inbox: ['to', 'title', 'body'],
  email: ['to', 'address', 'as_role', 'title', 'body'],
  webhook: ['url', 'headers', 'payload', 'as_role'],
};
const ALL_CHANNEL_KEYS = [...new Set(Object.values(CHANNEL_KEYS).flat())];

/** A notify node's channel (no `channel`: inbox; an unknown one as it is). */
export function notifyChannel(n: FlowNode): string {
  return typeof n.channel === 'string' ? n.channel : 'inbox';
}

/** The patch (for updateNode: `undefined` removes a key) switching a notify node to a
 * channel: keys of the other channels go, keys the designer does not know stay; inbox is
 * written as no `channel`; recipients and title start as for a new node, a webhook with
 * an empty url. */
export function switchNotifyChannel(n: FlowNode, channel: NotifyChannel): Partial<FlowNode> {
  const patch: Partial<FlowNode> = {};
  for (const k of ALL_CHANNEL_KEYS) if (!CHANNEL_KEYS[channel].includes(k) && k in n) patch[k] = undefined;
  patch.channel = channel === 'inbox' ? undefined : channel;
  if (channel === 'webhook') {
    if (typeof n.url !== 'string') patch.url = '';
  } else {
    if (n.to === undefined && !(channel === 'email' && n.address !== undefined)) patch.to = { initiator: true };
    if (typeof n.title !== 'string') patch.title = '';
    if (typeof n.body !== 'string') patch.body = '';
  }
  return patch;
}

/** An optional setting as written: empty text, null, `{}` → not written. */
export function optionalValue<T>(v: T): T | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (isObj(v) && Object.keys(v).length === 0) return undefined;
  return v;
}

/** Per-node problems of the new types' settings (client hints, with the key they concern):
 * `loopOver` (a loop without `over`), `key` (`as` / `name` not a lower-case key), `url`
 * (http or webhook without a url), `asRole` (email to addresses without `as_role`),
 * `recipients` (email with neither `to` nor `address`), `subflowFlow` (a subflow without
 * a flow), `subflowSelf` (a subflow starting `ctx.flow`, the flow it is in),
 * `subflowRecord` (another record: its form or its record id missing), `reportReport` (a
 * report node without a report), `reportRole` (… without the role it runs as),
 * `reportFilter` (a filter that is not a JSON Logic object). */
export function nodeSettingProblems(n: FlowNode, ctx: { flow?: string } = {}): { key: string; rule: string }[] {
  const out: { key: string; rule: string }[] = [];
  const hasUrl = typeof n.url === 'string' && n.url.trim() !== '';
  if (n.type === 'loop') {
    if (n.over === undefined || n.over === null) out.push({ key: 'over', rule: 'loopOver' });
    if (n.as !== undefined && !isVarKey(n.as)) out.push({ key: 'as', rule: 'key' });
  } else if (n.type === 'http') {
    if (!hasUrl) out.push({ key: 'url', rule: 'url' });
    if (n.name !== undefined && !isVarKey(n.name)) out.push({ key: 'name', rule: 'key' });
  } else if (n.type === 'notify') {
    const ch = notifyChannel(n);
    if (ch === 'webhook' && !hasUrl) out.push({ key: 'url', rule: 'url' });
    if (ch === 'email' && n.address !== undefined && !n.as_role) out.push({ key: 'as_role', rule: 'asRole' });
    if (ch === 'email' && n.to === undefined && n.address === undefined) out.push({ key: 'to', rule: 'recipients' });
  } else if (n.type === 'report') {
    if (typeof n.report !== 'string' || !n.report) out.push({ key: 'report', rule: 'reportReport' });
    if (typeof n.as_role !== 'string' || !n.as_role) out.push({ key: 'as_role', rule: 'reportRole' });
    if (n.filter !== undefined && !isObj(n.filter)) out.push({ key: 'filter', rule: 'reportFilter' });
    if (n.name !== undefined && !isVarKey(n.name)) out.push({ key: 'name', rule: 'key' });
  } else if (n.type === 'subflow') {
    if (typeof n.flow !== 'string' || !n.flow) out.push({ key: 'flow', rule: 'subflowFlow' });
    else if (ctx.flow !== undefined && n.flow === ctx.flow) out.push({ key: 'flow', rule: 'subflowSelf' });
    if (subflowOnOtherRecord(n)) {
      if (typeof n.form !== 'string' || !n.form) out.push({ key: 'form', rule: 'subflowRecord' });
      else if (n.record === undefined || n.record === null) out.push({ key: 'record', rule: 'subflowRecord' });
    }
    if (n.name !== undefined && !isVarKey(n.name)) out.push({ key: 'name', rule: 'key' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Context variables

/** The variables a node adds: `vars.<as>` and `vars.<as>_index` for a loop, `vars.<name>`
 * (with `.ok`, `.status`, `.body`) for an http node, and for a report node (with
 * `.body.rows` and `.body.total_rows` too), `vars.<name>` (with `.status`,
 * `.vars`, `.error`) for a subflow that is waited for. */
export function nodeVars(n: FlowNode, id: string): string[] {
  if (n.type === 'loop') {
    const v = loopVar(n);
    return [`vars.${v}`, `vars.${v}_index`];
  }
  if (n.type === 'http') {
    const v = httpResultName(n, id);
    return [`vars.${v}`, `vars.${v}.ok`, `vars.${v}.status`, `vars.${v}.body`];
  }
  if (n.type === 'report') {
    const v = reportResultName(n, id);
    return [`vars.${v}`, `vars.${v}.ok`, `vars.${v}.status`, `vars.${v}.body`, `vars.${v}.body.rows`, `vars.${v}.body.total_rows`];
  }
  if (n.type === 'subflow' && subflowWaits(n)) {
    const v = subflowResultName(n, id);
    return [`vars.${v}`, `vars.${v}.status`, `vars.${v}.vars`, `vars.${v}.error`];
  }
  return [];
}

/** The variables a trigger adds: `vars.payload` (the JSON body of an inbound webhook). */
export function triggerVars(tr: { type?: unknown }): string[] {
  return tr.type === 'webhook' ? ['vars.payload'] : [];
}

// ---------------------------------------------------------------------------------------
// Relative dates: `{"add_days": [{"var": "today"}, -91]}` on the value side of a filter

export interface RelDate {
  var: string;
  days: number;
}

/** `{add_days: [{var: x}, n]}` → {var: x, days: n}; else null. */
export function relDateOf(v: unknown): RelDate | null {
  if (!isObj(v) || Object.keys(v).length !== 1 || !Array.isArray(v.add_days) || v.add_days.length !== 2) return null;
  const [base, days] = v.add_days as unknown[];
  if (!isObj(base) || Object.keys(base).length !== 1 || typeof base.var !== 'string') return null;
  if (typeof days !== 'number' || !Number.isFinite(days)) return null;
  return { var: base.var, days };
}

/** A context value shifted by days: `{var}` for 0, else `{add_days: [{var}, days]}`. */
export function relDateLogic(r: RelDate): unknown {
  return r.days === 0 ? { var: r.var } : { add_days: [{ var: r.var }, r.days] };
}

// ---------------------------------------------------------------------------------------
// Key → value maps (http body, webhook payload, headers)

/** The text of a body / payload value as typed: JSON when it parses (JSON Logic, a number,
 * true, a quoted string …), else the text itself as a string literal. */
export function looseJson(text: string): unknown {
  const s = text.trim();
  if (s === '') return '';
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return text;
  }
}

/** A map with one entry set (or removed with `undefined`), keeping the order of the
 * others; undefined when nothing is left (the key is not written then). */
export function withEntry(m: unknown, key: string, value: unknown): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = isObj(m) ? { ...m } : {};
  if (value === undefined) delete out[key];
  else out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}
