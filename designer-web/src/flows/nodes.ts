// Pure rules of the newer node types and settings (docs/flows.md "Nodes", "Outbox",
// "Inbound webhooks"): the `loop` and `http` nodes and their edges, the notify channels
// (inbox, email, webhook) and the keys each may carry, the variables they add to the
// context, and relative dates (`add_days`) on the value side of a query filter.
// model.ts builds on these; this file imports nothing from it at run time.
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

/** Outcomes of the edges out of an http node: `ok` (or no outcome) and `failed`. */
export const HTTP_OUTCOMES = ['ok', 'failed'] as const;
export type HttpOutcome = (typeof HTTP_OUTCOMES)[number];

/** The outcome an edge out of an http node stands for (no outcome: ok). */
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

// ---------------------------------------------------------------------------------------
// loop

/** The loop variable (`as`, default `item`). */
export function loopVar(n: FlowNode): string {
  return typeof n.as === 'string' && n.as ? n.as : 'item';
}

/** The source handles of a loop: its body (each) and the way out (done). */
export const LOOP_HANDLES = ['each', 'done'] as const;

// ---------------------------------------------------------------------------------------
// Edges out of loops and http nodes

/** The source handle an edge is drawn from, given its source node's type: the outcome out
 * of an approval, ok / failed out of an http node, each / done out of a loop; null for
 * nodes with one handle. */
export function edgeHandleOf(sourceType: string | undefined, e: EdgeData): string | null {
  switch (sourceType) {
    case 'approval':
      return typeof e.outcome === 'string' ? e.outcome : null;
    case 'http':
      return httpOutcomeOf(e);
    case 'loop':
      return e.each === true ? 'each' : 'done';
    default:
      return null;
  }
}

/** The data of a new edge out of a loop or an http node, drawn from `handle` (null: no
 * handle given). Out of a loop: the each handle, or the first edge when no each edge exists
 * yet, is the body (`each: true`); out of an http node: the failed handle gives
 * `outcome: "failed"`, anything else a plain (ok) edge. Null for other types. */
export function newEdgeOf(sourceType: string | undefined, handle: string | null | undefined, siblings: EdgeData[]): { edge: EdgeData; handle: string } | null {
  if (sourceType === 'loop') {
    const each = handle === 'each' || (handle !== 'done' && !siblings.some((e) => e.each === true));
    return each ? { edge: { each: true }, handle: 'each' } : { edge: {}, handle: 'done' };
  }
  if (sourceType === 'http') {
    return handle === 'failed' ? { edge: { outcome: 'failed' }, handle: 'failed' } : { edge: {}, handle: 'ok' };
  }
  return null;
}

/** Rules the edges out of a node break (client hints; the server's checks decide):
 * `loopEdges` — a loop needs exactly two edges, one of them `each`;
 * `httpEdges` — an http node needs one ok edge and at most one failed edge. */
export function edgeRuleProblems(sourceType: string | undefined, outs: EdgeData[]): string[] {
  if (sourceType === 'loop') {
    const each = outs.filter((e) => e.each === true).length;
    return each !== 1 || outs.length !== 2 ? ['loopEdges'] : [];
  }
  if (sourceType === 'http') {
    const failed = outs.filter((e) => e.outcome === 'failed').length;
    const ok = outs.length - failed;
    return ok !== 1 || failed > 1 ? ['httpEdges'] : [];
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
 * `recipients` (email with neither `to` nor `address`). */
export function nodeSettingProblems(n: FlowNode): { key: string; rule: string }[] {
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
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Context variables

/** The variables a node adds: `vars.<as>` and `vars.<as>_index` for a loop, `vars.<name>`
 * (with `.ok`, `.status`, `.body`) for an http node. */
export function nodeVars(n: FlowNode, id: string): string[] {
  if (n.type === 'loop') {
    const v = loopVar(n);
    return [`vars.${v}`, `vars.${v}_index`];
  }
  if (n.type === 'http') {
    const v = httpResultName(n, id);
    return [`vars.${v}`, `vars.${v}.ok`, `vars.${v}.status`, `vars.${v}.body`];
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
